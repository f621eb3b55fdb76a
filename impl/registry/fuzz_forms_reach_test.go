package registry_test

import (
	"testing"

	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/optim"
	"github.com/embgrad/embgrad/reference"
)

// The big seeds of FuzzBag and FuzzStep are valid calls large enough for
// the parallel paths (impl/step and impl/fused from 2¹⁵ float32
// operations, impl/bagsharded from 2¹⁴), as the decoders' docs claim.
func TestDecodeFormsReachParallel(t *testing.T) {
	for _, in := range [][]byte{
		{0, 128, 0, 1, 0, 5, 30, 200, 100, 50, 1, 2, 3},
		{2, 129, 3, 2, 0, 4, 10, 20, 30, 4, 5, 6},
		{32 | 8, 130, 1, 3, 0, 3, 40, 80, 7, 8, 9, 10},
	} {
		dst, dw, a := decodeBag(in)
		if _, err := reference.BagOracle(dst, dw, a); err != nil || len(a.IDs)*a.D < 1<<14 {
			t.Errorf("bag seed %v: err %v, len(ids)·D = %d, want valid and ≥ 2¹⁴", in, err, len(a.IDs)*a.D)
		}
	}
	for _, in := range [][]byte{
		{2, 0, 4, 5, 3, 128, 0, 1, 0, 9, 3, 5},
		{1, 0, 3, 1, 0, 130, 1, 2, 0, 9, 4, 6},
		{8, 0, 1, 129, 2, 7, 0, 9, 4, 6},
	} {
		o, st, w, V, D, ids, g, opt, _, _ := decodeStep(in)
		err := optim.ValidateFused(w, &st, V, D, ids, g, opt, o)
		var U int
		if err == nil {
			rows, _ := suite.Coalesce(V, D, ids, g, opt)
			U = len(rows)
		}
		if err != nil || len(ids)*D < 1<<15 || U*D < 1<<15 {
			t.Errorf("step seed %v: err %v, len(ids)·D = %d, U·D = %d, want valid and both ≥ 2¹⁵", in, err, len(ids)*D, U*D)
		}
	}
}

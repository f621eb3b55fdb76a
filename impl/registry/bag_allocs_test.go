//go:build !race

package registry

import (
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/bagloop"
)

// The serial bag kernel allocates nothing per call once warm, in every
// mode, scaled and weighted included.
func TestSerialBagKernelDoesNotAllocate(t *testing.T) {
	const V, D, B, L = 1000, 33, 50, 10
	ids := make([]int32, B*L)
	for i := range ids {
		ids[i] = int32(i * 7 % V / 3)
	}
	offsets := make([]int32, B)
	for b := range offsets {
		offsets[b] = int32(b * L)
	}
	g := make([]float32, B*D)
	E := make([]float32, V*D)
	w := make([]float32, len(ids))
	dst, dw := make([]float32, V*D), make([]float32, len(ids))
	maxIdx := make([]int32, B*D)
	maxOpt := embgrad.BagOptions{Mode: embgrad.BagMax}
	if err := embgrad.BagForward(make([]float32, B*D), maxIdx, E, V, D, ids, offsets, nil, maxOpt); err != nil {
		t.Fatal(err)
	}
	scaled := embgrad.Options{ScaleGradByFreq: true}.WithPadding(3)
	for _, c := range []struct {
		a  embgrad.BagArgs
		dw []float32
	}{
		{embgrad.BagArgs{Opt: embgrad.BagOptions{Options: scaled}}, nil},
		{embgrad.BagArgs{Opt: embgrad.BagOptions{Mode: embgrad.BagMean, Options: scaled}}, nil},
		{embgrad.BagArgs{Weights: w, E: E}, dw},
		{embgrad.BagArgs{MaxIndices: maxIdx, Opt: maxOpt}, nil},
	} {
		a := c.a
		a.V, a.D, a.IDs, a.Offsets, a.GradOut = V, D, ids, offsets, g
		k := bagloop.Kernel{}
		if err := k.BagBackward(dst, c.dw, a); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() { _ = k.BagBackward(dst, c.dw, a) }); n != 0 {
			t.Errorf("%v: %v allocs per call, want 0", a.Opt, n)
		}
	}
}

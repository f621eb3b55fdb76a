package gradnorm_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/normpar"
)

// Regression tests for outputs that shared memory with an input and were
// accepted: RowNorms' dst over the values or rows it reads, clipping's
// values over a tensor's rows (the scaling rewrote the row indices), and
// EmbeddingRenorm's table over its ids. Each must now be rejected with
// ErrInvalidInput and every buffer unchanged.

func rejectedUnchanged(t *testing.T, name string, err error, mem []byte, before []byte) {
	t.Helper()
	if !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
	}
	if !slices.Equal(mem, before) {
		t.Errorf("%s: memory changed on error", name)
	}
}

func bytesOf[T any](x []T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), len(x)*int(unsafe.Sizeof(x[0])))
}

func TestOverlappingOutputsRejected(t *testing.T) {
	for _, k := range []gradnorm.Impl{gradnorm.Serial{}, normpar.Impl{}.WithWorkers(2)} {
		// RowNorms: dst (float64) over the values of a sparse gradient.
		vals := []float32{3, 4, 6, 8}
		g := gradnorm.SparseGrad([]int32{0, 2}, vals, 3, 2)
		dst := unsafe.Slice((*float64)(unsafe.Pointer(&vals[0])), 2)
		before := slices.Clone(bytesOf(vals))
		rejectedUnchanged(t, k.Name()+" RowNorms dst over values", k.RowNorms(dst, g), bytesOf(vals), before)

		// RowNorms: dst over the rows.
		buf := make([]float64, 2)
		rows := unsafe.Slice((*int32)(unsafe.Pointer(&buf[0])), 2)
		rows[0], rows[1] = 0, 2
		g = gradnorm.SparseGrad(rows, []float32{3, 4, 6, 8}, 3, 2)
		before = slices.Clone(bytesOf(buf))
		rejectedUnchanged(t, k.Name()+" RowNorms dst over rows", k.RowNorms(buf, g), bytesOf(buf), before)

		// Clip: one tensor's values hold another's rows; the scaling by
		// 1/(norm) would rewrite them.
		v0 := []float32{math.Float32frombits(1), math.Float32frombits(4), 100, 100}
		gs := []gradnorm.Grad{
			gradnorm.Dense(v0, 2, 2),
			gradnorm.SparseGrad(unsafe.Slice((*int32)(unsafe.Pointer(&v0[0])), 2), []float32{5, 5}, 6, 1),
		}
		before = slices.Clone(bytesOf(v0))
		_, err := k.ClipGradNorm(gs, 1, 2, false)
		rejectedUnchanged(t, k.Name()+" Clip values over rows", err, bytesOf(v0), before)
	}
	table := []float32{1, 2, 3, 4, 5, 6}
	ids := unsafe.Slice((*int32)(unsafe.Pointer(&table[0])), 1)
	ids[0] = 0
	before := slices.Clone(bytesOf(table))
	rejectedUnchanged(t, "EmbeddingRenorm table over ids", gradnorm.EmbeddingRenorm(table, 3, 2, ids, 1, 2), bytesOf(table), before)
}

// Package scatter is the loop kernel written for the compiler: one pass over
// the positions, with each row sliced once so the bounds checks leave the
// inner loop. Semantics are the reference loop:
//
//	for i, id := range ids {
//		if opt.Skips(id) {
//			continue
//		}
//		row, g := dst[id*D:(id+1)*D], gradOut[i*D:(i+1)*D]
//		row[j] += float32(s * g[j]) for j in [0, D) // s = 1, or 1/count(id) when scaling
//	}
//
// As in the loop kernel, the product is rounded before the add, so the
// compiler never fuses it into an FMA and the bits are the loop kernel's on
// every architecture and GOAMD64 level.
package scatter

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
)

// Kernel is the flat scatter-add kernel. The zero value is ready to use.
type Kernel struct{}

var _ embgrad.Kernel = Kernel{}

// Name returns "scatter".
func (Kernel) Name() string { return "scatter" }

// Backward implements embgrad.Kernel.
func (Kernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil // nothing to add; and V, unbounded when D = 0, must size no table
	}
	if opt.ScaleGradByFreq {
		counts := rowcount.Acquire(V, ids, opt)
		defer counts.Release()
		for i, id := range ids {
			if opt.Skips(id) {
				continue
			}
			row, g := rows(dst, gradOut, int(id), i, D)
			s := counts.Scale(id)
			for j, x := range g {
				row[j] += float32(s * x)
			}
		}
		return nil
	}
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		row, g := rows(dst, gradOut, int(id), i, D)
		for j, x := range g {
			row[j] += x
		}
	}
	return nil
}

// rows slices the destination row and the gradient row to the same length,
// which lets the compiler drop the bounds checks in the loops above.
func rows(dst, gradOut []float32, id, i, D int) (row, g []float32) {
	g = gradOut[i*D : i*D+D : i*D+D]
	row = dst[id*D : id*D+D : id*D+D]
	return row[:len(g)], g
}

// Package loop is the plainest correct kernel: for each position, for each
// column, one indexed add. It is the baseline the other kernels are measured
// against, and its Backward is the reference loop itself:
//
//	for i, id := range ids {
//		if opt.Skips(id) {
//			continue
//		}
//		s := float32(1) // 1/count(id) with ScaleGradByFreq
//		for j := 0; j < D; j++ {
//			dst[int(id)*D+j] += float32(s * gradOut[i*D+j])
//		}
//	}
//
// The conversion rounds the product to float32 before the add, which
// forbids the compiler to fuse the multiply and add into one FMA (it does
// on arm64 and on amd64 with GOAMD64=v3): so the bits do not depend on the
// architecture or GOAMD64 level, and equal impl/internal/vec's AddScaled.
package loop

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
)

// Kernel is the nested-loop kernel. The zero value is ready to use.
type Kernel struct{}

var _ embgrad.Kernel = Kernel{}

// Name returns "loop".
func (Kernel) Name() string { return "loop" }

// Backward implements embgrad.Kernel.
func (Kernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil // nothing to add; and V, unbounded when D = 0, must size no table
	}
	var counts *rowcount.Counts
	if opt.ScaleGradByFreq {
		counts = rowcount.Acquire(V, ids, opt)
		defer counts.Release()
	}
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		s := float32(1)
		if counts != nil {
			s = counts.Scale(id)
		}
		for j := 0; j < D; j++ {
			dst[int(id)*D+j] += float32(s * gradOut[i*D+j]) // never fused: see the package doc
		}
	}
	return nil
}

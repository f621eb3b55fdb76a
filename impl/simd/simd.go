// Package simd is the scatter kernel with its row updates in vector
// assembly: each position adds its gradient row into its table row with
// impl/internal/vec (AVX-512 or AVX2 on amd64; pure Go elsewhere, under the
// purego build tag, or when EMBGRAD_PUREGO is true). Positions are taken in
// order, as in the reference loop, so the results are bit-for-bit those of
// the loop kernel on every architecture and GOAMD64 level (both round each
// scaled product before adding it):
//
//	for i, id := range ids {
//		if opt.Skips(id) {
//			continue
//		}
//		vec.Add(dst[id*D:(id+1)*D], gradOut[i*D:(i+1)*D])
//		// or vec.AddScaled(..., 1/count(id)) when scaling
//	}
package simd

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
	"github.com/embgrad/embgrad/impl/internal/vec"
)

// Kernel is the vectorised scatter-add kernel. The zero value is ready to use.
type Kernel struct{}

var _ embgrad.Kernel = Kernel{}

// Name returns "simd".
func (Kernel) Name() string { return "simd" }

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
			if !opt.Skips(id) {
				vec.AddScaled(dst[int(id)*D:][:D], gradOut[i*D:][:D], counts.Scale(id))
			}
		}
		return nil
	}
	for i, id := range ids {
		if !opt.Skips(id) {
			vec.Add(dst[int(id)*D:][:D], gradOut[i*D:][:D])
		}
	}
	return nil
}

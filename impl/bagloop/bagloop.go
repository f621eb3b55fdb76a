// Package bagloop is the plainest correct embgrad.BagKernel: the reference
// loop of the BagKernel doc, bag by bag and id by id, one indexed add per
// column. It is the baseline the fast bag kernels are measured against.
// Frequency counts come from impl/internal/rowcount's pooled tables, so a
// call allocates nothing once warm.
package bagloop

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
)

// Kernel is the loop bag kernel. The zero value is ready to use.
type Kernel struct{}

var _ embgrad.BagKernel = Kernel{}

// Name returns "bagloop".
func (Kernel) Name() string { return "bagloop" }

// BagBackward implements embgrad.BagKernel.
func (Kernel) BagBackward(dst, dw []float32, a embgrad.BagArgs) error {
	if err := embgrad.ValidateBag(dst, dw, a); err != nil {
		return err
	}
	if a.D == 0 {
		clear(dw) // each weight gradient is an empty sum
		return nil
	}
	D := a.D
	if a.Opt.Mode == embgrad.BagMax {
		for k, m := range a.MaxIndices {
			if m >= 0 {
				dst[int(m)*D+k%D] += a.GradOut[k]
			}
		}
		return nil
	}
	var counts *rowcount.Counts
	if a.Opt.ScaleGradByFreq {
		counts = rowcount.Acquire(a.V, a.IDs, a.Opt.Options)
		defer counts.Release()
	}
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		g := a.GradOut[b*D : (b+1)*D]
		n := 0
		for _, id := range a.IDs[lo:hi] {
			if !a.Opt.Skips(id) {
				n++
			}
		}
		for i := lo; i < hi; i++ {
			id := a.IDs[i]
			if a.Opt.Skips(id) {
				if a.Weights != nil {
					dw[i] = 0
				}
				continue
			}
			s := float32(1)
			if counts != nil {
				s = counts.Scale(id)
			}
			if a.Opt.Mode == embgrad.BagMean {
				s = float32(s * (1 / float32(n)))
			}
			row := dst[int(id)*D : int(id+1)*D]
			if a.Weights != nil {
				s = float32(s * a.Weights[i])
				e := a.E[int(id)*D : int(id+1)*D]
				var dot float32
				for j, x := range g {
					dot += float32(x * e[j]) // product rounded once: never fused
				}
				dw[i] = dot
			}
			for j, x := range g {
				row[j] += float32(s * x) // product rounded once: never fused
			}
		}
	}
	return nil
}

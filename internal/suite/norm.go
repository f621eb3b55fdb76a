package suite

import (
	"slices"
	"strconv"

	"github.com/embgrad/embgrad/gradnorm"
)

// guardGrads returns guarded copies of grads, as the gradients to hand an
// implementation, and their buffers: values as outputs when out (clipping
// scales them in place), else read-only inputs; rows always read-only.
func guardGrads(grads []gradnorm.Grad, out bool) ([]gradnorm.Grad, []*Buf) {
	gs := make([]gradnorm.Grad, len(grads))
	var bufs []*Buf
	for t, g := range grads {
		name := "values[" + strconv.Itoa(t) + "]"
		v := In(name, g.Values)
		if out {
			v = Out(name, g.Values)
		}
		gs[t] = g
		gs[t].Values = v.F32()
		bufs = append(bufs, v)
		if g.Rows != nil {
			r := InIDs("rows["+strconv.Itoa(t)+"]", g.Rows)
			gs[t].Rows = r.I32()
			bufs = append(bufs, r)
		}
	}
	return gs, bufs
}

// RowNorms calls k.RowNorms through Call on a guarded dst and read-only
// copies of g, and returns dst after the call (also when k failed) and k's
// error or the violation.
func RowNorms(k gradnorm.Impl, dst []float64, g gradnorm.Grad) ([]float64, error) {
	out := Out64("dst", dst)
	gs, bufs := guardGrads([]gradnorm.Grad{g}, false)
	err := Call(func() error { return k.RowNorms(out.F64(), gs[0]) }, append(bufs, out)...)
	return out.F64(), err
}

// TotalNorm calls k.TotalNorm through Call on read-only copies of grads.
func TotalNorm(k gradnorm.Impl, grads []gradnorm.Grad, p float64) (float64, error) {
	gs, bufs := guardGrads(grads, false)
	var total float64
	err := Call(func() (err error) { total, err = k.TotalNorm(gs, p); return err }, bufs...)
	return total, err
}

// Clip calls k.ClipGradNorm through Call on guarded copies of grads (values
// written in place within their windows, rows read-only) and returns the
// gradients after the call (also when k failed; fresh slices, grads is not
// touched), the total k returned, and k's error or the violation.
func Clip(k gradnorm.Impl, grads []gradnorm.Grad, maxNorm, p float64, errorIfNonfinite bool) ([]gradnorm.Grad, float64, error) {
	gs, bufs := guardGrads(grads, true)
	var total float64
	err := Call(func() (err error) {
		total, err = k.ClipGradNorm(gs, maxNorm, p, errorIfNonfinite)
		return err
	}, bufs...)
	for t := range gs {
		gs[t].Values = slices.Clone(gs[t].Values)
		gs[t].Rows = slices.Clone(gs[t].Rows)
	}
	return gs, total, err
}

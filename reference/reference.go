// Package reference is embgrad's float64 oracle: the embedding lookup, its
// backward pass, a nonlinear loss through the lookup with its analytic
// gradient, and the per-element error bound that a float32 kernel must meet.
//
// The oracle is itself checked by finite differences in package gradcheck;
// every float32 kernel is then compared with it element by element.
package reference

import (
	"github.com/embgrad/embgrad"
)

// Gather is the forward lookup in float64: Y[i] = E[ids[i]] (len(ids)×D).
// It panics on a bad id: its callers are tests that built valid inputs.
func Gather(E []float64, D int, ids []int32) []float64 {
	Y := make([]float64, len(ids)*D)
	for i, id := range ids {
		copy(Y[i*D:(i+1)*D], E[int(id)*D:int(id)*D+D])
	}
	return Y
}

// Counts returns how often each row is named by a contributing position
// (padding positions excluded).
func Counts(V int, ids []int32, opt embgrad.Options) []int {
	c := make([]int, V)
	for _, id := range ids {
		if !opt.Skips(id) {
			c[id]++
		}
	}
	return c
}

// Scales returns the factor each position's gradient is multiplied by:
// 0 for padding, 1/count with ScaleGradByFreq, 1 otherwise.
func Scales(V int, ids []int32, opt embgrad.Options) []float64 {
	c := Counts(V, ids, opt)
	s := make([]float64, len(ids))
	for i, id := range ids {
		switch {
		case opt.Skips(id):
			s[i] = 0
		case opt.ScaleGradByFreq:
			s[i] = 1 / float64(c[id])
		default:
			s[i] = 1
		}
	}
	return s
}

// Backward64 is the embedding backward in float64, the loop of the embgrad
// package doc: dst[ids[i]] += s_i·g[i]. Inputs must be valid.
func Backward64(dst []float64, V, D int, ids []int32, g []float64, opt embgrad.Options) {
	s := Scales(V, ids, opt)
	for i, id := range ids {
		if s[i] == 0 {
			continue
		}
		row := dst[int(id)*D : int(id)*D+D]
		for j := range row {
			row[j] += s[i] * g[i*D+j]
		}
	}
}

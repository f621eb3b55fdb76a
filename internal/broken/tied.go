package broken

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/reference"
)

// FaultyTied returns tied kernels that each break the contract in one way;
// Name says how.
func FaultyTied() []embgrad.TiedKernel {
	return []embgrad.TiedKernel{
		tiedLoop{name: "drops-output-part", skip: func(embgrad.TiedArgs, int, int, int) bool { return true }},
		tiedLoop{name: "skips-last-t", skip: func(a embgrad.TiedArgs, t, _, _ int) bool { return t == a.T-1 }},
		tiedLoop{name: "transposes-dZ", dz: func(a embgrad.TiedArgs, t, v int) float32 { return a.DZ[v*a.T+t] }},
		tiedLoop{name: "skips-column-tail", skip: func(a embgrad.TiedArgs, _, _, j int) bool { return j >= a.D&^7 }},
		tiedLoop{name: "skips-zero-dZ", skip: func(a embgrad.TiedArgs, t, v, _ int) bool { return a.DZ[t*a.V+v] == 0 }},
		tiedLoop{name: "writes-before-validating", validateLate: true},
		tiedLoop{name: "mutates-dZ", after: func(a embgrad.TiedArgs) {
			if len(a.DZ) > 0 {
				a.DZ[0] = -a.DZ[0]
			}
		}},
		tiedLoop{name: "overwrites-dst", assign: true},
		tiedLoop{name: "writes-past-dst", strayLen: 1},
		tiedLoop{name: "accepts-overlap", validateCopy: true},
	}
}

// ReorderedTied returns correct tied kernels: the reference loop, and
// others whose summation orders differ from it.
func ReorderedTied() []embgrad.TiedKernel {
	return []embgrad.TiedKernel{
		tiedLoop{name: "loop"},
		tiedLoop{name: "output-first", outFirst: true},
		tiedLoop{name: "reversed", outFirst: true, backwards: true},
		tiedF64{},
	}
}

// tiedLoop is the reference loop of embgrad.TiedKernel, the input part by
// call.add, with hooks for breaking it the way tied kernels break.
type tiedLoop struct {
	name         string
	skip         func(a embgrad.TiedArgs, t, v, j int) bool // output terms left out
	dz           func(a embgrad.TiedArgs, t, v int) float32 // dZ[t,v] unless set
	validateLate bool                                       // the output part written before validating
	assign       bool                                       // dst = dZᵀ·H, forgetting what dst held
	after        func(a embgrad.TiedArgs)                   // runs last
	strayLen     int                                        // elements written past len(dst), within its capacity
	outFirst     bool                                       // the output part before the input part
	backwards    bool                                       // t and v descending in the output part
	validateCopy bool                                       // validates a copy of dst, missing overlaps
}

func (k tiedLoop) Name() string { return k.name }

func (k tiedLoop) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	if k.validateLate {
		k.output(dst, a)
	}
	vdst := dst
	if k.validateCopy {
		vdst = make([]float32, len(dst))
	}
	if err := embgrad.ValidateTied(vdst, a); err != nil {
		return err
	}
	input := call{dst, a.V, a.D, a.IDs, a.GradOut, a.Opt}
	switch {
	case k.validateLate:
		input.add(positions(len(a.IDs)))
	case k.outFirst:
		k.output(dst, a)
		input.add(positions(len(a.IDs)))
	default:
		input.add(positions(len(a.IDs)))
		k.output(dst, a)
	}
	for i := len(dst); i < min(len(dst)+k.strayLen, cap(dst)); i++ {
		dst[:cap(dst)][i]++
	}
	if k.after != nil {
		k.after(a)
	}
	return nil
}

func (k tiedLoop) output(dst []float32, a embgrad.TiedArgs) {
	V, D, T := a.V, a.D, a.T
	if len(dst) < V*D || len(a.DZ) < T*V || len(a.H) < T*D {
		return // validateLate: only what fits
	}
	if k.assign && T > 0 {
		clear(dst)
	}
	for tt := range T {
		for vv := range V {
			t, v := tt, vv
			if k.backwards {
				t, v = T-1-tt, V-1-vv
			}
			z := a.DZ[t*V+v]
			if k.dz != nil {
				z = k.dz(a, t, v)
			}
			for j := range D {
				if k.skip == nil || !k.skip(a, t, v, j) {
					dst[v*D+j] += z * a.H[t*D+j]
				}
			}
		}
	}
}

// tiedF64 sums each element in float64 and rounds once.
type tiedF64 struct{}

func (tiedF64) Name() string { return "float64-accumulation" }

func (tiedF64) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	if err := embgrad.ValidateTied(dst, a); err != nil {
		return err
	}
	acc := make([]float64, len(dst))
	for k, x := range dst {
		acc[k] = float64(x)
	}
	g := make([]float64, len(a.GradOut))
	for k, x := range a.GradOut {
		g[k] = float64(x)
	}
	reference.Backward64(acc, a.V, a.D, a.IDs, g, a.Opt)
	for t := range a.T {
		for v := range a.V {
			for j := range a.D {
				acc[v*a.D+j] += float64(a.DZ[t*a.V+v]) * float64(a.H[t*a.D+j])
			}
		}
	}
	for k, x := range acc {
		dst[k] = float32(x)
	}
	return nil
}

package property_test

import (
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// tiedLoop is the reference loop of embgrad.TiedKernel, with hooks for
// breaking it the way tied kernels break.
type tiedLoop struct {
	name      string
	skip      func(a embgrad.TiedArgs, t, v, j int) bool // output terms left out
	dz        func(a embgrad.TiedArgs, t, v int) float32 // dZ[t,v] unless set
	assign    bool                                       // dst = dZᵀ·H, forgetting what dst held
	strayLen  int                                        // elements written past len(dst), within its capacity
	outFirst  bool                                       // output part before the input part
	backwards bool                                       // t and v descending
}

func (k tiedLoop) Name() string { return k.name }

func (k tiedLoop) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	if err := embgrad.ValidateTied(dst, a); err != nil {
		return err
	}
	if k.outFirst {
		k.output(dst, a)
		k.input(dst, a)
	} else {
		k.input(dst, a)
		k.output(dst, a)
	}
	for i := len(dst); i < min(len(dst)+k.strayLen, cap(dst)); i++ {
		dst[:cap(dst)][i]++
	}
	return nil
}

func (k tiedLoop) input(dst []float32, a embgrad.TiedArgs) {
	count := make(map[int32]float32)
	for _, id := range a.IDs {
		count[id]++
	}
	for i, id := range a.IDs {
		if a.Opt.Skips(id) {
			continue
		}
		s := float32(1)
		if a.Opt.ScaleGradByFreq {
			s = 1 / count[id]
		}
		for j := range a.D {
			dst[int(id)*a.D+j] += s * a.GradOut[i*a.D+j]
		}
	}
}

func (k tiedLoop) output(dst []float32, a embgrad.TiedArgs) {
	V, D, T := a.V, a.D, a.T
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

func TestTiedPropertiesCatchFaultyKernels(t *testing.T) {
	for _, k := range []tiedLoop{
		{name: "drops-output-part", skip: func(embgrad.TiedArgs, int, int, int) bool { return true }},
		{name: "skips-last-t", skip: func(a embgrad.TiedArgs, t, _, _ int) bool { return t == a.T-1 }},
		{name: "transposes-dZ", dz: func(a embgrad.TiedArgs, t, v int) float32 { return a.DZ[v*a.T+t] }},
		{name: "skips-column-tail", skip: func(a embgrad.TiedArgs, _, _, j int) bool { return j >= a.D&^7 }},
		{name: "overwrites-dst", assign: true},
		{name: "writes-past-dst", strayLen: 1},
	} {
		t.Run(k.name, func(t *testing.T) {
			err := property.CheckTied(k, suite.Config{Short: true})
			if err == nil {
				t.Fatal("the properties passed a faulty kernel")
			}
			t.Logf("caught: %.400v", err)
		})
	}
}

func TestTiedPropertiesPassReorderedKernels(t *testing.T) {
	for _, k := range []tiedLoop{{name: "loop"}, {name: "output-first", outFirst: true}, {name: "backwards", backwards: true}} {
		t.Run(k.name, func(t *testing.T) {
			if err := property.CheckTied(k, suite.Config{Short: testing.Short()}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTiedShrinks checks that a failure is shrunk to the smallest case that
// shows it, printed compactly with its data: dropping the last t needs one
// row, one column, no ids and one t.
func TestTiedShrinks(t *testing.T) {
	k := tiedLoop{name: "skips-last-t", skip: func(a embgrad.TiedArgs, t, _, _ int) bool { return t == a.T-1 }}
	err := property.CheckTied(k, suite.Config{Short: true})
	if err == nil {
		t.Fatal("the properties passed a faulty kernel")
	}
	msg := err.Error()
	line, _, _ := strings.Cut(msg[strings.Index(msg, "tied/output-part"):], "\n")
	if !strings.Contains(line, "case {V=1 D=1 N=0 T=1 ") || !strings.Contains(line, "dZ=[") || len(line) > 400 {
		t.Fatalf("output-part failure not shrunk to V=1 D=1 N=0 T=1 with its data in one short line:\n%s", line)
	}
	t.Log(line)
}

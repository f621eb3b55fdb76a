package registry_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/optim"
)

// recorder is a reporter that keeps the first report.
type recorder struct{ first string }

func (*recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	if r.first == "" {
		r.first = fmt.Sprintf(format, args...)
	}
}

// selfInputs are the seeds and n mutations of them
// (bytes replaced, appended or cut), from a fixed generator.
func selfInputs(seeds [][]byte) [][]byte {
	in := slices.Clone(seeds)
	const n = 300 // well under a second for all forms
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		b := slices.Clone(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			switch i := rng.IntN(len(b) + 1); {
			case i == len(b):
				b = append(b, byte(rng.Uint32()))
			case rng.IntN(8) == 0:
				b = b[:i]
			default:
				b[i] = byte(rng.Uint32())
			}
		}
		in = append(in, b)
	}
	return in
}

// outOfReach are the faulty kernels a fuzz check of one call on one
// kernel cannot see by construction; the suites catch them.
var outOfReach = map[string]string{
	"nondeterministic-workers": "differs only between worker counts (the suites' worker checks)",
	"order-depends-on-workers": "differs only between worker counts (the suites' worker checks)",
	"stochastic-is-nearest":    "a rounding distribution, within the one-ulp bound per call (property suite)",
	"stochastic-seed-ignored":  "needs two seeds compared (property suite)",
	"last-tie-wins":            "a fault of its BagForward; the fuzz takes maxIndices from embgrad.BagForward",
}

// selfTest requires every faulty kernel to be reported on some input and no
// reordered (correct) one on any, the bitwise comparison off: the oracle's
// bounds and the rejection rule alone must tell them apart.
func selfTest[K any](t *testing.T, form string, seeds [][]byte, faulty, reordered []K, name func(K) string, check func(reporter, K, []byte)) {
	inputs := selfInputs(seeds)
	for _, k := range faulty {
		if why, ok := outOfReach[name(k)]; ok {
			t.Logf("%s: %s not expected: %s", form, name(k), why)
			continue
		}
		caught := false
		for _, b := range inputs {
			var r recorder
			check(&r, k, b)
			if r.first != "" {
				caught = true
				break
			}
		}
		if !caught {
			t.Errorf("%s: faulty %s passes every input", form, name(k))
		}
	}
	for _, k := range reordered {
		for _, b := range inputs {
			var r recorder
			check(&r, k, b)
			if r.first != "" {
				t.Errorf("%s: correct (reordered) %s reported on %v: %s", form, name(k), b, r.first)
				break
			}
		}
	}
}

func TestFuzzFormsSelfTest(t *testing.T) {
	selfTest(t, "FuzzBag", bagSeeds, broken.FaultyBag(), broken.ReorderedBag(), embgrad.BagKernel.Name,
		func(r reporter, k embgrad.BagKernel, b []byte) { checkBag(r, []embgrad.BagKernel{k}, false, b) })
	half := func(ks []broken.HalfKernel) (out []registry.HalfKernel) {
		for _, k := range ks {
			out = append(out, k)
		}
		return out
	}
	selfTest(t, "FuzzHalf", halfSeeds, append(half(broken.FaultyHalf()), half(broken.FaultyHalfValidation())...), half(broken.ReorderedHalf()),
		registry.HalfKernel.Name,
		func(r reporter, k registry.HalfKernel, b []byte) { checkHalf(r, []registry.HalfKernel{k}, false, b) })
	selfTest(t, "FuzzStep (fused)", stepSeeds, broken.FaultyFused(), broken.ReorderedFused(), optim.Fused.Name,
		func(r reporter, k optim.Fused, b []byte) { checkStep(r, []optim.Fused{k}, nil, false, b) })
	selfTest(t, "FuzzStep (stepper)", stepSeeds, broken.FaultySteppers(), broken.ReorderedSteppers(), optim.Stepper.Name,
		func(r reporter, k optim.Stepper, b []byte) { checkStep(r, nil, []optim.Stepper{k}, false, b) })
	selfTest(t, "FuzzNorm", normSeeds, broken.FaultyNorms(), broken.ReorderedNorms(), gradnorm.Impl.Name,
		func(r reporter, k gradnorm.Impl, b []byte) { checkNorm(r, []gradnorm.Impl{k}, false, b) })
}

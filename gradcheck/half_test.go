package gradcheck_test

import (
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/broken"
)

// halfCatches names the gradcheck check that catches each faulty 16-bit
// kernel (in either form's suite).
var halfCatches = map[string]string{
	"accumulates-in-16-bits":  "half16/duplicates",
	"truncates":               "half16/oracle",
	"flushes-subnormals":      "half16/subnormal",
	"nan-to-inf":              "half16/nonfinite",
	"stochastic-is-nearest":   "half16/stochastic",
	"stochastic-seed-ignored": "half16/stochastic",
}

func TestFaultyHalfKernelsAreCaught(t *testing.T) {
	for _, k := range broken.FaultyHalf() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			want, ok := halfCatches[k.Name()]
			if !ok {
				t.Fatalf("faulty 16-bit kernel %q is missing from the table", k.Name())
			}
			// Only the check that must catch it runs, to keep go test fast.
			var only []gradcheck.NamedCheck
			for _, c := range append(gradcheck.HalfChecks(k), gradcheck.Half16Checks(k)...) {
				if c.Name == want {
					only = append(only, c)
				}
			}
			if len(only) != 1 {
				t.Fatalf("no check named %q", want)
			}
			if failed := failing(gradcheck.RunChecks(only, gradcheck.Config{Short: true})); !slices.Contains(failed, want) {
				t.Errorf("check %q passed", want)
			}
		})
	}
}

// The faults that also reach a float32 dst (widening) are caught there.
func TestFaultyHalfKernelsAreCaughtIntoFloat32(t *testing.T) {
	for name, want := range map[string]string{"flushes-subnormals": "half/subnormal", "nan-to-inf": "half/nonfinite"} {
		i := slices.IndexFunc(broken.FaultyHalf(), func(k broken.HalfKernel) bool { return k.Name() == name })
		k := broken.FaultyHalf()[i]
		if failed := failing(gradcheck.RunHalf(k, gradcheck.Config{Short: true})); !slices.Contains(failed, want) {
			t.Errorf("%s: check %q passed; failing checks: %v", name, want, failed)
		}
	}
}

func TestReorderedHalfKernelsPass(t *testing.T) {
	for _, k := range broken.ReorderedHalf() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := gradcheck.CheckHalf(k, gradcheck.Config{Short: true}); err != nil {
				t.Error(err)
			}
			if err := gradcheck.CheckHalf16(k, gradcheck.Config{Short: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

package gradcheck_test

import (
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/broken"
)

// stepCatches names the gradcheck check that catches each faulty step
// kernel ("" for faults only the properties see).
var stepCatches = map[string]string{
	"adagrad-sum-not-mean":             "step/reference",
	"adam-decays-untouched":            "step/reference",
	"adam-per-row-step":                "step/reference",
	"updates-padding-row":              "step/reference",
	"ignores-weight-decay":             "step/reference",
	"decays-at-zero-lr":                "step/lr-zero",
	"fused-writes-before-validating":   "step/invalid-input",
	"order-depends-on-workers":         "",
	"fused-skips-nan":                  "step/nonfinite",
	"skips-last-row":                   "step/reference",
	"step-adam-decays-untouched":       "step/reference",
	"step-writes-before-validating":    "step/invalid-input",
	"adam-global-step-not-incremented": "step/reference",
	"step-writes-past-w":               "step/reference",
	"step-mutates-values":              "step/reference",
}

func checkCaught(t *testing.T, name string, run func() []gradcheck.Result) {
	want, ok := stepCatches[name]
	if !ok {
		t.Fatalf("faulty step kernel %q is missing from the table", name)
	}
	if want == "" {
		return
	}
	if failed := failing(run()); !slices.Contains(failed, want) {
		t.Errorf("check %q passed; failing checks: %v", want, failed)
	}
}

func TestFaultyStepKernelsAreCaught(t *testing.T) {
	cfg := gradcheck.Config{Short: true}
	for _, k := range broken.FaultyFused() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			checkCaught(t, k.Name(), func() []gradcheck.Result { return gradcheck.RunFused(k, cfg) })
		})
	}
	for _, k := range broken.FaultySteppers() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			checkCaught(t, k.Name(), func() []gradcheck.Result { return gradcheck.RunStep(k, cfg) })
		})
	}
}

func TestReorderedStepKernelsPass(t *testing.T) {
	cfg := gradcheck.Config{Short: true}
	for _, k := range broken.ReorderedFused() {
		if err := gradcheck.CheckFused(k, cfg); err != nil {
			t.Errorf("%s: %v", k.Name(), err)
		}
	}
	for _, k := range broken.ReorderedSteppers() {
		if err := gradcheck.CheckStep(k, cfg); err != nil {
			t.Errorf("%s: %v", k.Name(), err)
		}
	}
}

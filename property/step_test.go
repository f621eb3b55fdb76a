package property_test

import (
	"testing"

	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/property"
)

// stepCatchers names, for the faulty step kernels the properties catch,
// the property that does (the others are gradcheck's: validation, lr = 0
// and formulas that the reference step sees and Rule.Update shares).
var stepCatchers = map[string]string{
	"adagrad-sum-not-mean":       "step/sparse-then-step",
	"adam-decays-untouched":      "step/untouched",
	"adam-per-row-step":          "step/sparse-then-step",
	"updates-padding-row":        "step/untouched",
	"ignores-weight-decay":       "step/sparse-then-step",
	"order-depends-on-workers":   "step/workers",
	"skips-last-row":             "step/sparse-then-step",
	"step-adam-decays-untouched": "step/untouched",
}

func expectCaught(t *testing.T, want string, rs []property.Result) {
	for _, r := range rs {
		if r.Check == want {
			if r.Err == nil {
				t.Errorf("%s passed", want)
			}
			return
		}
	}
	t.Errorf("no check %s", want)
}

func TestCatchesFaultyStep(t *testing.T) {
	cfg := property.Config{Short: true}
	for _, k := range broken.FaultyFused() {
		if want, ok := stepCatchers[k.Name()]; ok {
			t.Run(k.Name(), func(t *testing.T) { t.Parallel(); expectCaught(t, want, property.RunFused(k, cfg)) })
		}
	}
	for _, k := range broken.FaultySteppers() {
		if want, ok := stepCatchers[k.Name()]; ok {
			t.Run(k.Name(), func(t *testing.T) { t.Parallel(); expectCaught(t, want, property.RunStep(k, cfg)) })
		}
	}
}

func TestPassesCorrectStep(t *testing.T) {
	cfg := property.Config{Short: true}
	for _, k := range broken.ReorderedFused() {
		if err := property.CheckFused(k, cfg); err != nil {
			t.Errorf("%s: %v", k.Name(), err)
		}
	}
	for _, k := range broken.ReorderedSteppers() {
		if err := property.CheckStep(k, cfg); err != nil {
			t.Errorf("%s: %v", k.Name(), err)
		}
	}
}

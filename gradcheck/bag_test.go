package gradcheck_test

import (
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/broken"
)

// bagCatches names the gradcheck check that catches each faulty bag
// kernel.
var bagCatches = map[string]string{
	"counts-by-loop-counter":   "bag/oracle",
	"mean-counts-padding":      "bag/oracle",
	"last-tie-wins":            "bag/max-ties",
	"splits-ties":              "bag/max-ties",
	"empty-bag-to-row-0":       "bag/oracle",
	"dw-from-wrong-row":        "bag/oracle",
	"writes-before-validating": "bag/invalid-input",
	"nondeterministic-workers": "bag/workers",
}

func TestFaultyBagKernelsAreCaught(t *testing.T) {
	for _, k := range broken.FaultyBag() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			want, ok := bagCatches[k.Name()]
			if !ok {
				t.Fatalf("faulty bag kernel %q is missing from the table", k.Name())
			}
			if failed := failing(gradcheck.RunBag(k, gradcheck.Config{Short: true})); !slices.Contains(failed, want) {
				t.Errorf("check %q passed; failing checks: %v", want, failed)
			}
		})
	}
}

func TestReorderedBagKernelsPass(t *testing.T) {
	for _, k := range broken.ReorderedBag() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := gradcheck.CheckBag(k, gradcheck.Config{Short: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

package property_test

import (
	"testing"

	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/property"
)

// bagCatchers names, for the faulty bag kernels the properties catch, the
// property that does (the scaling, mean-with-padding, tie and validation
// faults are gradcheck's: the properties' mean cases have no padding, and
// their max indices come from embgrad.BagForward).
var bagCatchers = map[string]string{
	"empty-bag-to-row-0": "bag/empty-bags",
	"dw-from-wrong-row":  "bag/permutation",
}

func TestCatchesFaultyBag(t *testing.T) {
	for _, k := range broken.FaultyBag() {
		want, ok := bagCatchers[k.Name()]
		if !ok {
			continue
		}
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			for _, r := range property.RunBag(k, property.Config{Short: true}) {
				if r.Check == want {
					if r.Err == nil {
						t.Errorf("%s passed", want)
					}
					return
				}
			}
			t.Errorf("no check %s", want)
		})
	}
}

func TestPassesCorrectBag(t *testing.T) {
	for _, k := range broken.ReorderedBag() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := property.CheckBag(k, property.Config{Short: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

package property_test

import (
	"testing"

	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/property"
)

// sparseCatchers names, for the faulty sparse kernels the properties
// catch, the property that does (on unscaled dyadic data the
// scaling and validation faults are gradcheck's).
var sparseCatchers = map[string]string{
	"unsorted-rows":     "sparse/exact-sum",
	"duplicated-row":    "sparse/exact-sum",
	"keeps-padding-row": "sparse/exact-sum",
	"drops-last-row":    "sparse/exact-sum",
}

func TestCatchesFaultySparse(t *testing.T) {
	for _, k := range broken.FaultySparse() {
		want, ok := sparseCatchers[k.Name()]
		if !ok {
			continue
		}
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			for _, r := range property.RunSparse(k, property.Config{Short: true}) {
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

func TestPassesCorrectSparse(t *testing.T) {
	for _, k := range broken.ReorderedSparse() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := property.CheckSparse(k, property.Config{Short: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

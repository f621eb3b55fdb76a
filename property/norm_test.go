package property_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/property"
)

// normCatchers names, for the faulty norm implementations the properties
// catch, the property that does (non-finite handling is gradcheck's).
var normCatchers = map[string]string{
	"no-clamp":         "norm/noop",
	"uncoalesced-norm": "norm/sparse-coalesced",
}

func TestCatchesFaultyNorms(t *testing.T) {
	for _, k := range broken.FaultyNorms() {
		want, ok := normCatchers[k.Name()]
		if !ok {
			continue
		}
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			for _, r := range property.RunNorm(k, property.Config{Short: true}) {
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

func TestPassesCorrectNorms(t *testing.T) {
	for _, k := range append(broken.ReorderedNorms(), gradnorm.Serial{}) {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := property.CheckNorm(k, property.Config{Short: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

package property_test

import (
	"testing"

	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/property"
)

// The reordered 16-bit kernels satisfy every property; the faulty ones
// whose fault shows on exact data are caught.
func TestHalfReorderedPass(t *testing.T) {
	for _, k := range broken.ReorderedHalf() {
		if err := property.CheckHalf(k, property.Config{Short: true}); err != nil {
			t.Errorf("%s: %v", k.Name(), err)
		}
	}
}

func TestHalfCatchesFaulty(t *testing.T) {
	for _, k := range broken.FaultyHalfValidation() {
		rs := property.RunHalf(k, property.Config{Short: true})
		caught := false
		for _, r := range rs {
			caught = caught || r.Check == "half/invalid-input" && r.Err != nil
		}
		if !caught {
			t.Errorf("%s: half/invalid-input passed", k.Name())
		}
	}
}

package tied

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/property"
)

// TestSuites runs both suites on every output path this machine has: the
// micro-kernels it supports and vec.AddScaled alone.
func TestSuites(t *testing.T) {
	paths := map[string]*path{"addscaled": {}}
	for i := range tiles {
		if tiles[i].ok {
			paths[tiles[i].name] = &path{&tiles[i]}
		}
	}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) {
			gradcheck.TestTied(t, Kernel{path: p})
			property.TestTied(t, Kernel{path: p})
		})
	}
}

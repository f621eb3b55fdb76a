package gradcheck_test

import (
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/internal/broken"
)

// normCatches names the gradcheck check that catches each faulty norm
// implementation.
var normCatches = map[string]string{
	"no-clamp":            "norm/clip-oracle",
	"nan-only-check":      "norm/nonfinite",
	"uncoalesced-norm":    "norm/invalid-input",
	"float32-sum":         "norm/rows-oracle",
	"scales-before-check": "norm/nonfinite",
}

func TestFaultyNormsAreCaught(t *testing.T) {
	for _, k := range broken.FaultyNorms() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			want, ok := normCatches[k.Name()]
			if !ok {
				t.Fatalf("faulty norm implementation %q is missing from the table", k.Name())
			}
			if failed := failing(gradcheck.RunNorm(k, gradcheck.Config{Short: true})); !slices.Contains(failed, want) {
				t.Errorf("check %q passed; failing checks: %v", want, failed)
			}
		})
	}
}

func TestReorderedNormsPass(t *testing.T) {
	for _, k := range append(broken.ReorderedNorms(), gradnorm.Serial{}) {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := gradcheck.CheckNorm(k, gradcheck.Config{Short: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

package gradcheck_test

import (
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/broken"
)

// sparseCatches names the gradcheck check that catches each faulty sparse
// kernel.
var sparseCatches = map[string]string{
	"unsorted-rows":            "sparse/oracle",
	"duplicated-row":           "sparse/oracle",
	"keeps-padding-row":        "sparse/oracle",
	"drops-last-row":           "sparse/oracle",
	"scales-by-batch-count":    "sparse/oracle",
	"writes-before-validating": "sparse/invalid-input",
	"writes-past-U":            "sparse/oracle",
	"writes-past-values":       "sparse/oracle",
	"mutates-gradOut":          "sparse/oracle",
	"skips-nan":                "sparse/nonfinite",
	"worker-dependent":         "sparse/repeat",
}

func TestFaultySparseKernelsAreCaught(t *testing.T) {
	for _, k := range broken.FaultySparse() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			want, ok := sparseCatches[k.Name()]
			if !ok {
				t.Fatalf("faulty sparse kernel %q is missing from the table", k.Name())
			}
			if failed := failing(gradcheck.RunSparse(k, gradcheck.Config{Short: true})); !slices.Contains(failed, want) {
				t.Errorf("check %q passed; failing checks: %v", want, failed)
			}
		})
	}
}

func TestReorderedSparseKernelsPass(t *testing.T) {
	for _, k := range broken.ReorderedSparse() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := gradcheck.CheckSparse(k, gradcheck.Config{Short: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

package property_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// tiedCatchers names, for each faulty tied kernel of internal/broken, the
// tied checks that catch its bug by design (others may catch it too); none
// gives the kernel to gradcheck, and the properties must then pass it. A
// faulty kernel missing here fails the test, so a new one gets classified.
var tiedCatchers = map[string][]string{
	"drops-output-part":        {"tied/output-part"},
	"skips-last-t":             {"tied/output-part"},
	"transposes-dZ":            {"tied/output-part", "tied/output-column-sums"},
	"skips-column-tail":        {"tied/output-part"},
	"skips-zero-dZ":            nil,
	"writes-before-validating": nil,
	"mutates-dZ":               {"tied/sum-of-parts", "tied/output-part", "tied/output-column-sums", "tied/zero-dZ-is-untied"},
	"overwrites-dst":           {"tied/zero-dZ-is-untied"},
	"writes-past-dst":          {"tied/output-part", "tied/sinusoidal-table-unchanged"},
	"accepts-overlap":          nil,
}

func TestTiedPropertiesCatchFaultyKernels(t *testing.T) {
	cfg, err := suite.Config{Short: true}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, k := range broken.FaultyTied() {
		names[k.Name()] = true
		t.Run(k.Name(), func(t *testing.T) {
			want, ok := tiedCatchers[k.Name()]
			if !ok {
				t.Fatal("no entry in tiedCatchers: which check catches it?")
			}
			var failed []string
			for _, r := range suite.Run(property.TiedChecks(k), cfg) {
				if r.Err != nil {
					failed = append(failed, r.Check)
					t.Logf("%s caught it: %.400v", r.Check, r.Err)
				}
			}
			if len(want) == 0 && len(failed) > 0 {
				t.Errorf("%v fail although the table gives this kernel to gradcheck: update the table", failed)
			}
			for _, name := range want {
				if !slices.Contains(failed, name) {
					t.Errorf("%s passed; failing checks: %v", name, failed)
				}
			}
		})
	}
	for name := range tiedCatchers {
		if !names[name] {
			t.Errorf("tiedCatchers names %q, which broken.FaultyTied no longer has", name)
		}
	}
}

func TestTiedPropertiesPassReorderedKernels(t *testing.T) {
	for _, k := range broken.ReorderedTied() {
		t.Run(k.Name(), func(t *testing.T) {
			if err := property.CheckTied(k, suite.Config{Short: testing.Short()}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTiedShrinks checks that a failure is shrunk to the smallest case that
// shows it, printed compactly with its data: dropping the last t needs one
// row, one column, no ids and one t.
func TestTiedShrinks(t *testing.T) {
	i := slices.IndexFunc(broken.FaultyTied(), func(k embgrad.TiedKernel) bool { return k.Name() == "skips-last-t" })
	k := broken.FaultyTied()[i]
	err := property.CheckTied(k, property.Config{Seed: 1, Short: true})
	if err == nil {
		t.Fatal("the properties passed a faulty kernel")
	}
	msg := err.Error()
	line, _, _ := strings.Cut(msg[strings.Index(msg, "tied/output-part"):], "\n")
	// The same kernel / case / error / seed line as an untied failure.
	for _, want := range []string{"tied/output-part: skips-last-t: V=1 D=1 N=0 T=1 ", "dZ=[", " (shrunk in ", "): dZᵀ·H: row 0 col 0: got 0, want ",
		"[seed 1: reproduce with Config.Seed=1 and Config.Short]"} {
		if !strings.Contains(line, want) || len(line) > 400 {
			t.Fatalf("output-part failure is not one short line with %q:\n%s", want, line)
		}
	}
	t.Log(line)
}

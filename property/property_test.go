package property_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// catchers names, for each faulty kernel of internal/broken, the checks
// that catch its bug by design (others may catch it too). A faulty kernel
// missing here fails the test, so a new one gets classified, not dropped.
var catchers = map[string][]string{
	"drops-duplicates":              {"oracle", "duplicate-batch"},
	"ignores-padding":               {"oracle", "untouched-rows"},
	"skips-last-token":              {"oracle", "duplicate-batch"},
	"writes-before-validating":      {"invalid-id-negative", "invalid-id-too-large"},
	"mutates-gradout":               {"read-only-inputs"},
	"scales-by-running-count":       {"oracle", "duplicate-batch"},
	"skips-simd-tail":               {"oracle"},
	"overwrites-dst":                {"oracle", "zero-gradout"},
	"drops-nan":                     {"oracle"},
	"accepts-bad-padding":           {"invalid-padding"},
	"panics-on-bad-id":              {"invalid-id-negative", "invalid-id-too-large"},
	"nondeterministic-across-calls": {"deterministic"},
	"worker-count-dependent":        {"workers"},
	"scratch-leaves-garbage":        {"scratch"},
	"accepts-overlap":               {"invalid-dst-overlaps-gradout", "invalid-dst-overlaps-ids"},
	"accepts-huge-vocabulary":       {"invalid-huge-V-zero-D"},
	"adds-fresh-gradient":           {"untouched-rows"},
}

// Every faulty kernel fails each check listed for it, and the shrunk
// counterexample is small.
func TestCatchesFaulty(t *testing.T) {
	cfg, err := suite.Config{}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range broken.Faulty() {
		want, ok := catchers[k.Name()]
		if !ok {
			t.Errorf("%s: no entry in catchers: which check catches it?", k.Name())
			continue
		}
		checks := property.Checks(k)
		for _, name := range want {
			i := slices.IndexFunc(checks, func(c suite.Check) bool { return c.Name == name })
			if i < 0 {
				t.Errorf("%s: no check %q", k.Name(), name)
				continue
			}
			err := checks[i].Run(cfg)
			var f *property.Failure
			switch {
			case err == nil:
				t.Errorf("%s: %s passed", k.Name(), name)
			case !errors.As(err, &f):
				t.Errorf("%s: %s failed without a shrunk case: %v", k.Name(), name, err)
			case len(f.Case.IDs) > 8 || f.Case.V > 8 || f.Case.D > 2:
				t.Errorf("%s: %s: shrunk case is not small: %v", k.Name(), name, f.Case)
			}
		}
	}
}

// The canonical bug shrinks to the canonical counterexample.
func TestShrinksDropsDuplicates(t *testing.T) {
	i := slices.IndexFunc(broken.Faulty(), func(k embgrad.Kernel) bool { return k.Name() == "drops-duplicates" })
	err := property.Checks(broken.Faulty()[i])[0].Run(suite.Config{Seed: suite.DefaultSeed, Short: true})
	var f *property.Failure
	if !errors.As(err, &f) {
		t.Fatalf("want a *property.Failure, got %v", err)
	}
	const want = "V=1 D=1 ids=[0 0] g=[1 1] pad=- scale=off dst=[0]"
	if got := f.Case.String(); got != want {
		t.Errorf("shrunk to %s, want %s", got, want)
	}
	// The message names the case, what went wrong and how to reproduce.
	for _, s := range []string{"drops-duplicates: " + want + " (shrunk in ", "got 1, want 2", "[seed 1: reproduce with Config.Seed=1 and Config.Short]"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not contain %q", err, s)
		}
	}
	if n := strings.Count(err.Error(), "ids="); n != 1 {
		t.Errorf("message prints %d cases, want the shrunk case once: %q", n, err)
	}
}

// Correct kernels pass, whatever their summation order.
func TestPassesCorrect(t *testing.T) {
	for _, k := range append(broken.Reordered(), loop.Kernel{}, scatter.Kernel{}) {
		for _, r := range property.Run(k, suite.Config{Short: true}) {
			if r.Err != nil {
				t.Errorf("%s: %s: %v", k.Name(), r.Check, r.Err)
			}
		}
	}
}

// Checks omits what a kernel's capabilities make moot.
func TestChecksFollowCapabilities(t *testing.T) {
	names := func(k embgrad.Kernel) []string {
		var s []string
		for _, c := range property.Checks(k) {
			s = append(s, c.Name)
		}
		return s
	}
	plain := names(loop.Kernel{})
	if !slices.Contains(plain, "deterministic") || slices.Contains(plain, "workers") {
		t.Errorf("checks of a plain kernel: %v", plain)
	}
	i := slices.IndexFunc(broken.Reordered(), func(k embgrad.Kernel) bool { _, ok := k.(embgrad.Parallel); return ok })
	if !slices.Contains(names(broken.Reordered()[i]), "workers") {
		t.Errorf("no workers check for a Parallel kernel")
	}
	if slices.Contains(names(nondeterministic{}), "deterministic") {
		t.Errorf("determinism checked for a kernel that declares itself nondeterministic")
	}
}

type nondeterministic struct{ loop.Kernel }

func (nondeterministic) Nondeterministic() bool { return true }

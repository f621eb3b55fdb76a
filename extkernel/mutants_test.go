package extkernel_test

import (
	"errors"
	"os"
	"regexp"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/extkernel"
	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// unobserved reports whether err is (or holds) a breach a guarded call
// sees only in its own process: a stray write or a changed input.
// The tied properties report failures as text, so their violations are
// known by the words Call uses.
func unobserved(err error) bool {
	if suite.IsViolation(err, suite.StrayWrite) || suite.IsViolation(err, suite.ChangedInput) {
		return true
	}
	return strayWrite.MatchString(err.Error()) || changedInput.MatchString(err.Error())
}

var (
	strayWrite   = regexp.MustCompile(`wrote \S+ outside \w+, at`)
	changedInput = regexp.MustCompile(`modified \w+: \w+\[\d+\] \(len \d+\) was`)
)

// sameResults requires the results of one suite on a kernel across the
// boundary (remote) to be those in process (local): the same checks, each
// passing or failing with the same text (so a shrunk counterexample prints
// the same), except checks not applicable across the boundary and
// failures that only a stray write or a changed input made.
func sameResults(t *testing.T, kernel string, local, remote []suite.Result) {
	t.Helper()
	if len(local) != len(remote) {
		t.Errorf("%s: %d checks in process, %d across the boundary", kernel, len(local), len(remote))
		return
	}
	for i, l := range local {
		r := remote[i]
		switch {
		case l.Check != r.Check:
			t.Errorf("%s: check %d is %q in process, %q across the boundary", kernel, i, l.Check, r.Check)
		case r.NotApplicable != "":
			if r.Err != nil {
				t.Errorf("%s %s: not applicable yet failed: %v", kernel, r.Check, r.Err)
			}
		case l.Err != nil && unobserved(l.Err):
		case l.Err == nil && r.Err != nil:
			t.Errorf("%s %s: passes in process, fails across the boundary: %v", kernel, r.Check, r.Err)
		case l.Err != nil && r.Err == nil:
			t.Errorf("%s %s: fails in process, passes across the boundary; in process:\n%v", kernel, r.Check, l.Err)
		case l.Err != nil && l.Err.Error() != r.Err.Error():
			t.Errorf("%s %s: fails differently across the boundary:\nin process: %v\nacross:     %v", kernel, r.Check, l.Err, r.Err)
		}
	}
}

// notApplicable are the checks reported not applicable across a process
// boundary; each must be so reported, and none other.
var notApplicable = map[string]bool{
	"guard-bands": true, "read-only-inputs": true,
	"invalid-dst-overlaps-gradout": true, "invalid-dst-overlaps-ids": true,
	"tied/sinusoidal-table-unchanged": true, "tied/invalid-overlap": true,
	"sparse/invalid-overlap": true,
}

func checkNA(t *testing.T, kernel string, rs []suite.Result) {
	t.Helper()
	for _, r := range rs {
		if (r.NotApplicable != "") != notApplicable[r.Check] {
			t.Errorf("%s %s: not applicable = %q", kernel, r.Check, r.NotApplicable)
		}
	}
}

// all is whether to run every kernel of internal/broken across the
// boundary (EMBGRAD_EXTKERNEL_ALL=1, as .ci/run does: about 20 s on two
// cores) rather than one of each kind of catch, to keep go test fast.
func all() bool { return os.Getenv("EMBGRAD_EXTKERNEL_ALL") == "1" }

// The faulty and reordered kernels of internal/broken, served by the Go
// kernel process, are caught through the protocol exactly as in process:
// every check that fails in process (but for what cannot be seen across
// the boundary) fails the same way, with the same shrunk counterexample.
func TestMutantsAcrossBoundary(t *testing.T) {
	cfg := suite.Config{Short: true}
	var dense []string
	for _, k := range broken.Faulty() {
		dense = append(dense, "broken/"+k.Name())
	}
	for _, k := range broken.Reordered() {
		dense = append(dense, "reordered/"+k.Name())
	}
	switch {
	case all():
	case testing.Short():
		dense = []string{"broken/drops-duplicates", "broken/writes-before-validating"}
	default:
		dense = []string{"broken/drops-duplicates", "broken/writes-before-validating", "broken/panics-on-bad-id",
			"broken/worker-count-dependent", "broken/scratch-leaves-garbage", "reordered/reverse-order"}
	}
	for _, name := range dense {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			p := serve(t, "-kernel "+name, extkernel.Config{})
			k := p.Kernel()
			if _, ok := k.(suite.Boundary); !ok {
				t.Fatal("a process's kernel is not a suite.Boundary")
			}
			for _, su := range []struct {
				name   string
				checks func(embgrad.Kernel) []suite.Check
			}{{"gradcheck", gradcheck.Checks}, {"property", property.Checks}} {
				local, remote := suite.Run(su.checks(s.Kernel), cfg), suite.Run(su.checks(k), cfg)
				sameResults(t, su.name+" "+name, local, remote)
				checkNA(t, name, remote)
			}
		})
	}
	var tied []string
	for _, k := range broken.FaultyTied() {
		tied = append(tied, "broken-tied/"+k.Name())
	}
	for _, k := range broken.ReorderedTied() {
		tied = append(tied, "reordered-tied/"+k.Name())
	}
	switch {
	case all():
	case testing.Short():
		tied = []string{"broken-tied/transposes-dZ"}
	default:
		tied = []string{"broken-tied/transposes-dZ", "broken-tied/writes-before-validating", "reordered-tied/output-first"}
	}
	for _, name := range tied {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			p := serve(t, "-kernel "+name, extkernel.Config{})
			k := p.Tied()
			for _, su := range []struct {
				name   string
				checks func(embgrad.TiedKernel) []suite.Check
			}{{"gradcheck", gradcheck.TiedChecks}, {"property", property.TiedChecks}} {
				local, remote := suite.Run(su.checks(s.Tied), cfg), suite.Run(su.checks(k), cfg)
				sameResults(t, su.name+" "+name, local, remote)
				checkNA(t, name, remote)
			}
		})
	}
}

// The same for the sparse form.
func TestSparseMutantsAcrossBoundary(t *testing.T) {
	cfg := suite.Config{Short: true}
	var names []string
	for _, k := range broken.FaultySparse() {
		names = append(names, "broken-sparse/"+k.Name())
	}
	for _, k := range broken.ReorderedSparse() {
		names = append(names, "reordered-sparse/"+k.Name())
	}
	if !all() {
		names = names[:2]
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			k := serve(t, "-kernel "+name, extkernel.Config{}).Sparse()
			for _, su := range []struct {
				name   string
				checks func(embgrad.SparseKernel) []suite.Check
			}{{"gradcheck", gradcheck.SparseChecks}, {"property", property.SparseChecks}} {
				local, remote := suite.Run(su.checks(s.Sparse), cfg), suite.Run(su.checks(k), cfg)
				sameResults(t, su.name+" "+name, local, remote)
				checkNA(t, name, remote)
			}
		})
	}
}

// A property failure across the boundary is a *property.Failure with the
// same shrunk counterexample as in process, printed the same way.
func TestShrunkAcrossBoundary(t *testing.T) {
	s, err := lookup("broken/drops-duplicates")
	if err != nil {
		t.Fatal(err)
	}
	k := serve(t, "-kernel broken/drops-duplicates", extkernel.Config{}).Kernel()
	cfg := suite.Config{Short: true}
	pick := func(k embgrad.Kernel) *property.Failure {
		for _, c := range property.Checks(k) {
			if c.Name == "oracle" {
				var f *property.Failure
				if err := c.Run(cfg); !errors.As(err, &f) {
					t.Fatalf("%T %v: not a *property.Failure", k, err)
				}
				return f
			}
		}
		t.Fatal("no oracle check")
		return nil
	}
	local, remote := pick(s.Kernel), pick(k)
	if remote.Shrinks == 0 || remote.Case.String() != local.Case.String() || remote.Error() != local.Error() {
		t.Errorf("in process: %v\nacross: %v", local, remote)
	}
	t.Logf("across the boundary: %v", remote)
}

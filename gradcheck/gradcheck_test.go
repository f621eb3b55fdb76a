package gradcheck_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/internal/broken"
)

// failing returns the names of the checks that failed.
func failing(rs []gradcheck.Result) []string {
	var names []string
	for _, r := range rs {
		if r.Err != nil {
			names = append(names, r.Check)
		}
	}
	return names
}

// Which suite catches which faulty kernel. gradcheck calls kernels with
// valid input only, so validation bugs are the property suite's to catch;
// for those rows gradcheck must pass (if it starts failing them, this table
// is out of date).
var catches = map[string]struct {
	suite string
	check string // the gradcheck check that must fail
}{
	"drops-duplicates":              {"gradcheck", "oracle"},
	"ignores-padding":               {"gradcheck", "oracle"},
	"skips-last-token":              {"gradcheck", "oracle"},
	"mutates-gradout":               {"gradcheck", "oracle"},
	"scales-by-running-count":       {"gradcheck", "oracle"},
	"skips-simd-tail":               {"gradcheck", "oracle"},
	"overwrites-dst":                {"gradcheck", "oracle"},
	"drops-nan":                     {"gradcheck", "nonfinite"},
	"nondeterministic-across-calls": {"gradcheck", "repeat"},
	"worker-count-dependent":        {"gradcheck", "workers"},
	"scratch-leaves-garbage":        {"gradcheck", "scratch"},
	"writes-before-validating":      {suite: "property"},
	"accepts-bad-padding":           {suite: "property"},
	"panics-on-bad-id":              {suite: "property"},
	"accepts-overlap":               {suite: "property"},
	"accepts-huge-vocabulary":       {suite: "property"},
	"adds-fresh-gradient":           {"gradcheck", "oracle"},
}

// Faulty kernels are caught even with Short's fewer cases.
func TestFaultyKernelsAreCaught(t *testing.T) {
	for _, k := range broken.Faulty() {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			want, ok := catches[k.Name()]
			if !ok {
				t.Fatalf("faulty kernel %q is missing from the table of which suite catches it", k.Name())
			}
			failed := failing(gradcheck.Run(k, gradcheck.Config{Short: true}))
			switch {
			case want.suite != "gradcheck" && len(failed) > 0:
				t.Errorf("gradcheck fails %v although the table gives this kernel to %s: update the table", failed, want.suite)
			case want.suite == "gradcheck" && !slices.Contains(failed, want.check):
				t.Errorf("check %q passed; failing checks: %v", want.check, failed)
			}
		})
	}
	names := map[string]bool{}
	for _, k := range broken.Faulty() {
		names[k.Name()] = true
	}
	for name := range catches {
		if !names[name] {
			t.Errorf("table names %q, which broken.Faulty no longer has", name)
		}
	}
}

// Correct kernels, whatever their summation order, pass the full set of
// cases (the Short set under -short).
func TestCorrectKernelsPass(t *testing.T) {
	ks := append([]embgrad.Kernel{loop.Kernel{}, scatter.Kernel{}}, broken.Reordered()...)
	for _, k := range ks {
		t.Run(k.Name(), func(t *testing.T) {
			t.Parallel()
			if err := gradcheck.Check(k, gradcheck.Config{Short: testing.Short()}); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestFailureNamesSeedCaseAndElement(t *testing.T) {
	oracle := gradcheck.Checks(faulty(t, "drops-duplicates"))[0]
	run := func(seed uint64) error { return oracle.Run(gradcheck.Config{Seed: seed, Short: true}) }
	err := run(7)
	if err == nil {
		t.Fatal("drops-duplicates passed")
	}
	first := strings.SplitN(err.Error(), "\n", 2)[0]
	for _, want := range []string{"drops-duplicates: ", "V=", " D=", " N=", " dist=", " pad=", " scale=", " dst=",
		"row ", " col ", "got ", "want ", "bound ", "seed 7: reproduce with Config.Seed=7 and Config.Short"} {
		if !strings.Contains(first, want) {
			t.Errorf("first failure lacks %q:\n%s", want, first)
		}
	}
	if again := run(7); again == nil || again.Error() != err.Error() {
		t.Errorf("the same seed did not reproduce the same failures")
	}
	if other := run(8); other == nil || other.Error() == err.Error() {
		t.Errorf("another seed gave the same failures: the seed does not reach the cases")
	}
}

// The reproduce hint names what set the seed: the environment (or the
// flag) when the caller left Config.Seed unset, Config.Seed when it set it,
// seed 0 included.
func TestReproduceHintFollowsTheSeed(t *testing.T) {
	oracle := gradcheck.Checks(faulty(t, "drops-duplicates"))[0]
	t.Setenv("EMBGRAD_SEED", "0")
	for _, tc := range []struct {
		cfg  gradcheck.Config
		want string
	}{
		{gradcheck.Config{Short: true}, "[seed 0: reproduce with -embgrad.seed=0 or EMBGRAD_SEED=0 and -short]"},
		{gradcheck.Config{Seed: 3}, "[seed 3: reproduce with Config.Seed=3]"},
		{gradcheck.Config{Short: true}.WithSeed(0), "[seed 0: reproduce with Config.Seed=0 and Config.SeedSet and Config.Short]"},
	} {
		err := oracle.Run(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: want a failure ending %q, got %v", tc.cfg, tc.want, err)
		}
	}
	// Seed 0 is a seed like any other: its cases differ from seed 1's.
	zero, one := oracle.Run(gradcheck.Config{Short: true}.WithSeed(0)), oracle.Run(gradcheck.Config{Seed: 1, Short: true})
	cases := func(err error) string { // the failures without their hints
		var b strings.Builder
		for line := range strings.SplitSeq(err.Error(), "\n") {
			b.WriteString(strings.SplitN(line, " [seed", 2)[0])
		}
		return b.String()
	}
	if zero == nil || one == nil || cases(zero) == cases(one) {
		t.Errorf("seed 0 ran seed 1's cases")
	}
}

func faulty(t *testing.T, name string) embgrad.Kernel {
	t.Helper()
	for _, k := range broken.Faulty() {
		if k.Name() == name {
			return k
		}
	}
	t.Fatalf("broken.Faulty has no %q", name)
	return nil
}

// misbehaving wraps loop with one fault the broken package does not have,
// for the harness itself: stray writes, reordered ids, panics.
type misbehaving struct {
	name  string
	fault func(dst []float32, ids []int32)
}

func (m misbehaving) Name() string { return m.name }

func (m misbehaving) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := (loop.Kernel{}).Backward(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	m.fault(dst, ids)
	return nil
}

func TestHarnessCatchesStrayWritesAndPanics(t *testing.T) {
	for _, tc := range []struct {
		k    misbehaving
		want string
	}{
		{misbehaving{"writes-past-end", func(dst []float32, _ []int32) { dst[:len(dst)+1][len(dst)] = 0 }}, "outside dst, at dst["},
		{misbehaving{"adds-past-end", func(dst []float32, _ []int32) { dst[:len(dst)+1][len(dst)]++ }}, "outside dst, at dst["},
		{misbehaving{"sorts-ids", func(_ []float32, ids []int32) { slices.Sort(ids) }}, "modified ids"},
		{misbehaving{"panics", func(_ []float32, ids []int32) {
			if len(ids) > 3 {
				panic("boom")
			}
		}}, "kernel panicked: boom"},
	} {
		err := gradcheck.Checks(tc.k)[0].Run(gradcheck.Config{Short: true}) // oracle
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want a failure containing %q, got %v", tc.k.name, tc.want, err)
		}
	}
}

// declared is the flip-flop kernel owning up to its nondeterminism: the
// repeat check no longer applies, and everything else passes.
type declared struct{ embgrad.Kernel }

func (declared) Nondeterministic() bool { return true }

func TestChecksFollowCapabilities(t *testing.T) {
	names := func(k embgrad.Kernel) (out []string) {
		for _, c := range gradcheck.Checks(k) {
			out = append(out, c.Name)
		}
		return out
	}
	flip := faulty(t, "nondeterministic-across-calls")
	if got := names(declared{flip}); slices.Contains(got, "repeat") {
		t.Errorf("declared nondeterministic kernel still gets the repeat check: %v", got)
	}
	if err := gradcheck.Check(declared{flip}, gradcheck.Config{Short: true}); err != nil {
		t.Errorf("declared nondeterministic kernel fails: %v", err)
	}
	if got := names(loop.Kernel{}); slices.Contains(got, "workers") || !slices.Contains(got, "repeat") {
		t.Errorf("loop's checks: %v", got)
	}
	if got := names(faulty(t, "worker-count-dependent")); !slices.Contains(got, "workers") {
		t.Errorf("Parallel kernel has no workers check: %v", got)
	}
}

// counting counts Backward calls.
type counting struct {
	loop.Kernel
	n *atomic.Int64
}

func (c counting) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	c.n.Add(1)
	return c.Kernel.Backward(dst, V, D, ids, gradOut, opt)
}

func TestShortRunsFewerCases(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the full suite")
	}
	calls := func(short bool) int64 {
		k := counting{n: new(atomic.Int64)}
		if err := gradcheck.Check(k, gradcheck.Config{Short: short}); err != nil {
			t.Fatal(err)
		}
		return k.n.Load()
	}
	full, short := calls(false), calls(true)
	if !(short < full/2) {
		t.Errorf("Short made %d calls, full %d", short, full)
	}
}

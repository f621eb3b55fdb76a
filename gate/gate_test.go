package gate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestMinPValue(t *testing.T) {
	for _, c := range []struct {
		n1, n2 int
		want   float64
	}{
		{3, 3, 0.1},              // 2/C(6,3) = 2/20
		{4, 4, 2.0 / 70},         // 0.0286: the first n with p ≤ 0.05
		{5, 5, 2.0 / 252},        //
		{10, 10, 2.0 / 184756},   // 1.08e-5
		{3, 5, 2.0 / 56},         // unequal sizes
		{0, 5, 1},                //
		{1, 1, 1},                // 2/2
		{50, 50, 2 / 1.00891e29}, // C(100,50) ≈ 1.00891e29
	} {
		got := MinPValue(c.n1, c.n2)
		if math.Abs(got-c.want) > 1e-4*c.want {
			t.Errorf("MinPValue(%d, %d) = %g, want %g", c.n1, c.n2, got, c.want)
		}
	}
}

func TestMinSamples(t *testing.T) {
	for _, c := range []struct {
		level float64
		want  int
	}{
		{0.05, 4},
		{0.05 / 12, 6},
		{0.05 / 48, 7},
		{0.05 / 1000, 9},
	} {
		if got := MinSamples(c.level); got != c.want {
			t.Errorf("MinSamples(%g) = %d, want %d", c.level, got, c.want)
		}
	}
}

func TestThresholds(t *testing.T) {
	var th Thresholds
	if got := th.For("BenchmarkX"); got != DefaultThreshold {
		t.Errorf("zero Thresholds: %g, want %g", got, DefaultThreshold)
	}
	for _, s := range []string{"7.5%", "impl=scatter=10", "dist=zipf/=20%", "impl=scatter/.*dist=same=0"} {
		if err := th.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		want float64
	}{
		{"BenchmarkBackward/impl=loop/dist=uniform-2", 0.075},
		{"BenchmarkBackward/impl=scatter/dist=uniform-2", 0.10},
		{"BenchmarkBackward/impl=scatter/dist=zipf/mode=scratch-2", 0.20}, // last match wins
		{"BenchmarkBackward/impl=scatter/dist=same-2", 0},
	} {
		if got := th.For(c.name); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("For(%s) = %g, want %g", c.name, got, c.want)
		}
	}
	if got, want := th.String(), "7.5%, impl=scatter=10%, dist=zipf/=20%, impl=scatter/.*dist=same=0%"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, bad := range []string{"", "abc", "=5", "x=", "x=-1", "(=5", "x=NaN", "NaN", "Inf", "+Inf", "-Inf", "x=Inf", "1e400"} {
		if err := new(Thresholds).Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestChange(t *testing.T) {
	// Lower is better: 100 → 115 is 15 % worse.
	if d, c := change(100, 115, -1); math.Abs(d-0.15) > 1e-12 || math.Abs(c-0.15) > 1e-12 {
		t.Errorf("lower-better: delta %g cost %g", d, c)
	}
	// Higher is better: a 15 % slowdown in time is 1/1.15 the rate; its cost
	// change is the same 15 %.
	if d, c := change(100, 100/1.15, 1); math.Abs(d-(1/1.15-1)) > 1e-12 || math.Abs(c-0.15) > 1e-12 {
		t.Errorf("higher-better: delta %g cost %g", d, c)
	}
	// Improvement symmetric with regression.
	if _, c := change(115, 100, -1); math.Abs(costImprovement(c)-0.15) > 1e-12 {
		t.Errorf("improvement: %g", costImprovement(c))
	}
	if d, c := change(0, 0, -1); d != 0 || c != 0 {
		t.Errorf("0→0: %g %g", d, c)
	}
	if _, c := change(0, 1, -1); !math.IsInf(c, 1) {
		t.Errorf("0→1 lower-better cost %g, want +Inf", c)
	}
}

// results builds a benchfmt text with n samples per benchmark.
func results(units string, n int, vals func(bench, i int) float64, benches ...string) string {
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\n" + units)
	for i := 0; i < n; i++ {
		for j, name := range benches {
			fmt.Fprintf(&b, "%s-2 \t 100\t %g ns/op\n", name, vals(j, i))
		}
	}
	return b.String()
}

func compare(t *testing.T, old, new string, opt Options) (*Report, error) {
	t.Helper()
	d, err := Read("old.txt", strings.NewReader(old), "new.txt", strings.NewReader(new))
	if err != nil {
		return nil, err
	}
	return Compare(d, opt)
}

// The Holm adjustment: with m tests, adjusted p_(j) = max over i ≤ j of
// (m-i+1)·p_(i) (1-based), capped at 1.
func TestHolmAdjustment(t *testing.T) {
	// Three benchmarks: one clearly shifted (p = 2/C(20,10)), one slightly
	// shifted, one identical. Check the adjusted p-values directly.
	spread := func(j, i int) float64 {
		base := 1000.0 + float64(i) // ranks 0..9
		switch j {
		case 0:
			return base
		case 1:
			return base + 4.5 // partial overlap
		}
		return base
	}
	old := results("", 10, func(j, i int) float64 { return 1000 + float64(i) }, "BenchmarkA", "BenchmarkB", "BenchmarkC")
	new := results("", 10, func(j, i int) float64 {
		if j == 0 {
			return 2000 + float64(i)
		}
		return spread(j, i)
	}, "BenchmarkA", "BenchmarkB", "BenchmarkC")
	rep, err := compare(t, old, new, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tests != 3 {
		t.Fatalf("Tests = %d, want 3", rep.Tests)
	}
	ps := map[string]Row{}
	for _, r := range rep.Rows {
		ps[r.Name] = r
	}
	a, b, c := ps["BenchmarkA-2"], ps["BenchmarkB-2"], ps["BenchmarkC-2"]
	if math.Abs(a.P-MinPValue(10, 10)) > 1e-9 {
		t.Errorf("A: p = %g, want %g", a.P, MinPValue(10, 10))
	}
	// Sorted: A < B < C. adj(A) = 3pA, adj(B) = max(adj(A), 2pB), adj(C) = max(adj(B), pC).
	if want := 3 * a.P; math.Abs(a.PHolm-want) > 1e-12 {
		t.Errorf("A: Holm p = %g, want %g", a.PHolm, want)
	}
	if want := math.Max(3*a.P, 2*b.P); math.Abs(b.PHolm-want) > 1e-12 {
		t.Errorf("B: Holm p = %g, want %g", b.PHolm, want)
	}
	if want := math.Min(1, math.Max(b.PHolm, c.P)); math.Abs(c.PHolm-want) > 1e-12 {
		t.Errorf("C: Holm p = %g, want %g", c.PHolm, want)
	}
	if a.Verdict != Regressed || rep.Outcome != Regression {
		t.Errorf("A doubled in time: verdict %v, outcome %v", a.Verdict, rep.Outcome)
	}
	if c.Verdict != Unchanged {
		t.Errorf("C identical: verdict %v", c.Verdict)
	}
}

func TestDirectionFromMetadata(t *testing.T) {
	mk := func(unitLine string, v float64) string {
		var b strings.Builder
		b.WriteString(unitLine)
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&b, "BenchmarkA-2 \t 100\t 1000 ns/op\t %g widgets\n", v+float64(i))
		}
		return b.String()
	}
	for _, c := range []struct {
		unitLine string
		from, to float64
		want     Verdict
		inferred bool
	}{
		{"Unit widgets better=higher\n", 100, 80, Regressed, false},
		{"Unit widgets better=higher\n", 100, 120, Improved, false},
		{"Unit widgets better=lower\n", 100, 120, Regressed, false},
		{"", 100, 120, Regressed, true}, // inferred: lower is better
	} {
		rep, err := compare(t, mk(c.unitLine, c.from), mk(c.unitLine, c.to), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Rows {
			if r.Unit != "widgets" {
				continue
			}
			if r.Verdict != c.want || r.BetterInferred != c.inferred {
				t.Errorf("%q %g→%g: verdict %v inferred %v, want %v %v", c.unitLine, c.from, c.to, r.Verdict, r.BetterInferred, c.want, c.inferred)
			}
		}
	}
	// Conflicting metadata between the files is an error.
	_, err := compare(t, mk("Unit widgets better=higher\n", 1), mk("Unit widgets better=lower\n", 1), Options{})
	if err == nil || !strings.Contains(err.Error(), "better=higher at old.txt:1 but better=lower at new.txt:1") {
		t.Errorf("conflicting metadata: %v", err)
	}
}

func TestAssumeExactMetadata(t *testing.T) {
	mk := func(v float64) string {
		var b strings.Builder
		b.WriteString("Unit gadgets assume=exact\n")
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&b, "BenchmarkA-2 \t 100\t %d ns/op\t %g gadgets\n", 1000+i, v)
		}
		return b.String()
	}
	rep, err := compare(t, mk(3), mk(3.5), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != Regression || rep.Tests != 1 {
		t.Errorf("assume=exact gadgets 3 → 3.5: outcome %v, tests %d (want regression, 1 statistical test)", rep.Outcome, rep.Tests)
	}
}

func TestTooFew(t *testing.T) {
	mk := func(n int) string {
		return results("", n, func(j, i int) float64 { return 1000 + float64(i) }, "BenchmarkA")
	}
	// One comparison: 4 per side suffices, 3 does not.
	if _, err := compare(t, mk(4), mk(4), Options{}); err != nil {
		t.Errorf("4+4: %v", err)
	}
	_, err := compare(t, mk(3), mk(3), Options{})
	var tf *TooFewError
	if !errors.As(err, &tf) || tf.Need != 4 {
		t.Errorf("3+3: %v, want TooFewError needing 4", err)
	}
}

// Results from another OS or architecture are refused, not compared; a
// different cpu line is only a note.
func TestOtherPlatformRefused(t *testing.T) {
	mk := func() string {
		return results("", 5, func(j, i int) float64 { return 1000 + float64(i) }, "BenchmarkA")
	}
	arm := strings.Replace(mk(), "goarch: amd64", "goarch: arm64", 1)
	_, err := compare(t, mk(), arm, Options{})
	var me *MismatchError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), `goarch is "amd64" in OLD old.txt but "arm64" in NEW new.txt`) {
		t.Errorf("amd64 vs arm64: %v, want a MismatchError naming goarch", err)
	}
	cpu := strings.Replace(mk(), "goarch: amd64", "goarch: amd64\ncpu: another", 1)
	if rep, err := compare(t, mk(), cpu, Options{}); err != nil || !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "config cpu differs") }) {
		t.Errorf("other cpu: err %v, want a report with a cpu note", err)
	}
}

func TestReadErrors(t *testing.T) {
	ok := results("", 10, func(j, i int) float64 { return 1000 }, "BenchmarkA")
	for _, c := range []struct {
		name, text, want string
	}{
		{"empty", "", "new.txt: empty file"},
		{"blank", "\n \n", "new.txt: empty file"},
		{"no results", "goos: linux\nPASS\n", "new.txt: no benchmark result lines"},
		{"bad number", "BenchmarkA-2 100 x ns/op\n", "new.txt:1: parsing measurement"},
		{"NaN", "BenchmarkA-2 100 NaN ns/op\n", "new.txt:1: BenchmarkA-2: value NaN ns/op is not a finite number"},
		{"truncated", ok + "BenchmarkA-2  10", "new.txt:13: truncated benchmark line"},
		{"fail", ok + "--- FAIL: BenchmarkA\n", "new.txt:13: the benchmark run failed"},
		{"panic", ok + "panic: boom\n", "new.txt:13: the benchmark run failed: panic: boom"},
		{"bad assume", "Unit ns/op assume=maybe\n" + ok, "new.txt:1: unit ns/op: assume=maybe"},
	} {
		_, err := Read("old.txt", strings.NewReader(ok), "new.txt", strings.NewReader(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// A last result line without its newline may have lost units after
	// its last value: refused even though what is left parses.
	if _, err := Read("old.txt", strings.NewReader(ok), "new.txt", strings.NewReader(strings.TrimSuffix(ok, "\n"))); err == nil ||
		!strings.Contains(err.Error(), "new.txt:12: truncated benchmark line") {
		t.Errorf("no final newline: error %v, want new.txt:12: truncated", err)
	}
}

// Alpha outside (0, 1) is refused; NaN once passed every bound check and
// switched off the too-few-samples refusal.
func TestAlphaOutOfRange(t *testing.T) {
	one := results("", 1, func(j, i int) float64 { return 1000 }, "BenchmarkA")
	slow := results("", 1, func(j, i int) float64 { return 2000 }, "BenchmarkA")
	d, err := Read("old.txt", strings.NewReader(one), "new.txt", strings.NewReader(slow))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.1, 1, 2} {
		if rep, err := Compare(d, Options{Alpha: a}); err == nil || !strings.Contains(err.Error(), "want 0 < alpha < 1") {
			t.Errorf("alpha %v: report %v, error %v; want an alpha error", a, rep, err)
		}
	}
	if _, err := Compare(d, Options{}); err == nil || !strings.Contains(err.Error(), "too few samples") {
		t.Errorf("default alpha, 1 sample a side: error %v, want too few samples", err)
	}
}

// A direction declared by one file only must not flip the verdict.
func TestDirectionMustAgree(t *testing.T) {
	old := results("", 10, func(j, i int) float64 { return 1000 + float64(i) }, "BenchmarkA")
	slow := results("", 10, func(j, i int) float64 { return 1500 + float64(i) }, "BenchmarkA")
	for _, c := range []struct{ name, old, new, want string }{
		{"known unit", old, "Unit ns/op better=higher\n" + slow, "new.txt:1: unit ns/op: better=higher, but ns/op is lower-is-better"},
		{"known rate", old, "Unit MB/s better=lower\n" + slow, "new.txt:1: unit MB/s: better=lower, but MB/s is higher-is-better"},
		{"one side", strings.ReplaceAll(old, "ns/op", "ns/op 3 widgets"), "Unit widgets better=higher\n" + strings.ReplaceAll(slow, "ns/op", "ns/op 3 widgets"),
			"unit widgets: better=higher at new.txt:1, but old.txt does not say so"},
	} {
		d, err := Read("old.txt", strings.NewReader(c.old), "new.txt", strings.NewReader(c.new))
		if err == nil {
			var rep *Report
			rep, err = Compare(d, Options{})
			if err == nil {
				t.Errorf("%s: outcome %v, want an error", c.name, rep.Outcome)
				continue
			}
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestConfirm(t *testing.T) {
	old := results("", 10, func(j, i int) float64 { return 1000 + float64(i) }, "BenchmarkA", "BenchmarkB")
	slow := results("", 10, func(j, i int) float64 { return 1200 + float64(i) }, "BenchmarkA", "BenchmarkB")
	rep, err := compare(t, old, slow, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Suspects(); len(got) != 2 {
		t.Fatalf("suspects %v", got)
	}
	// Re-run: A is slow again, B is not.
	oldA := results("", 10, func(j, i int) float64 { return 1000 + float64(i) }, "BenchmarkA", "BenchmarkB")
	newA := results("", 10, func(j, i int) float64 { return []float64{1200, 1000}[j] + float64(i) }, "BenchmarkA", "BenchmarkB")
	rerun, err := compare(t, oldA, newA, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep.Confirm(rerun)
	if rep.Outcome != Regression {
		t.Errorf("outcome %v, want regression (A confirmed)", rep.Outcome)
	}
	for _, r := range rep.Rows {
		want := map[string]Verdict{"BenchmarkA-2": Regressed, "BenchmarkB-2": Unconfirmed}[r.Name]
		if r.Verdict != want {
			t.Errorf("%s: %v, want %v", r.Name, r.Verdict, want)
		}
	}
	// Nothing confirmed: pass.
	rep2, _ := compare(t, old, slow, Options{})
	rerun2, _ := compare(t, oldA, oldA, Options{})
	rep2.Confirm(rerun2)
	if rep2.Outcome != Pass {
		t.Errorf("outcome %v, want pass when the re-run confirms nothing", rep2.Outcome)
	}
}

// B/op is exact only while it is constant; a varying B/op is tested.
func TestExactUnitThatVaries(t *testing.T) {
	mk := func(bops ...int) string {
		var b strings.Builder
		for i, v := range bops {
			fmt.Fprintf(&b, "BenchmarkA-2 \t 100\t %d ns/op\t %d B/op\t 0 allocs/op\n", 1000+i, v)
		}
		return b.String()
	}
	old := mk(0, 0, 1585, 0, 996, 0, 0, 1585, 0, 0)
	new := mk(0, 1585, 1585, 0, 0, 996, 1585, 0, 0, 1585)
	rep, err := compare(t, old, new, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		switch r.Unit {
		case "B/op":
			if r.Exact || r.Verdict != Unchanged || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "values vary") {
				t.Errorf("varying B/op: exact %v verdict %v warnings %q", r.Exact, r.Verdict, r.Warnings)
			}
		case "allocs/op":
			if !r.Exact {
				t.Errorf("constant allocs/op not compared exactly")
			}
		}
	}
	if rep.Tests != 2 || rep.Outcome != Pass {
		t.Errorf("tests %d outcome %v, want 2 (sec/op, B/op) and pass", rep.Tests, rep.Outcome)
	}
	// Constant on both sides but higher: a regression with no statistics.
	rep, err = compare(t, mk(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), mk(8, 8, 8, 8, 8, 8, 8, 8, 8, 8), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != Regression {
		t.Errorf("B/op 0 → 8: outcome %v, want regression", rep.Outcome)
	}
}

// A benchmark's rates are its time per op times a constant: one hypothesis,
// however many units report it. Holm must count it once, while a second
// benchmark is a second test.
func TestRatesAreOneHypothesis(t *testing.T) {
	file := func(shift float64) string {
		var b strings.Builder
		b.WriteString("Unit tokens/s better=higher\n")
		for i := 0; i < 10; i++ {
			ns := 1000 + float64(i)*7 + shift
			fmt.Fprintf(&b, "BenchmarkA-2 \t 100\t %g ns/op\t %g tokens/s\t %g MB/s\n", ns, 8192e9/ns, 3e9/ns)
			fmt.Fprintf(&b, "BenchmarkB-2 \t 100\t %g ns/op\t %g tokens/s\n", 500+float64(i)*3, 8192e9/(500+float64(i)*3))
		}
		return b.String()
	}
	rep, err := compare(t, file(0), file(40), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tests != 2 {
		t.Fatalf("Tests = %d, want 2 (A in three units is one test, B in two is another)", rep.Tests)
	}
	var pa []float64
	for _, r := range rep.Rows {
		if r.Name == "BenchmarkA-2" && !r.Exact {
			pa = append(pa, r.PHolm)
		}
	}
	if len(pa) != 3 || pa[0] != pa[1] || pa[1] != pa[2] {
		t.Errorf("A's units have Holm p %v, want three equal values", pa)
	}
}

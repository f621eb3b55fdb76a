// Package gate is embgrad's benchmark regression gate: it compares an OLD and
// a NEW set of Go benchmark results (benchfmt) and decides pass or
// regression, or refuses with an error when the data cannot support a
// decision.
//
// The rules, per benchmark (keyed by full name, GOMAXPROCS suffix included)
// and unit:
//
//   - Units assumed exact (allocs/op, B/op, and any unit with metadata
//     "assume=exact") compare their exact values: any change in the worse
//     direction is a regression, with no threshold and no statistics — as
//     long as the data are exact, every sample of each side the same value.
//     When they vary (B/op often does: allocations amortized over b.N,
//     pooled buffers, goroutine start-up), the row is compared like the
//     other units below, with a warning.
//   - Every other unit is compared with the Mann–Whitney U test
//     (benchmath.AssumeNothing, two-sided). The tests form one family
//     corrected with Holm–Bonferroni at level Alpha (default 0.05), so that
//     running many benchmarks does not make a false alarm likely. The family
//     counts hypotheses, not units: a benchmark's rates (B/s, tokens/s) are
//     its time per op times a constant and give the same p, so they are one
//     hypothesis reported in several units (see hypotheses). A difference is
//     significant when its Holm-adjusted p-value is ≤ Alpha.
//   - A significant difference is a regression only if the change of the
//     medians is worse than the relative threshold (default 5 %, overridable
//     per benchmark, see Thresholds). The threshold is applied to the cost
//     ratio — new/old for lower-is-better units, old/new for
//     higher-is-better ones — so 5 % means the same slowdown in ns/op and in
//     tokens/s.
//   - The direction of a unit comes from its unit metadata ("Unit tokens/s
//     better=higher"), else from the known units (benchfile.KnownBetter:
//     sec/op, B/op, allocs/op lower is better; B/s and every other rate
//     "…/s" higher), else lower is better, and the summary says so. Metadata
//     contradicting a known unit, or the two sides disagreeing on a unit's
//     direction, is an error: a file alone must not turn slower into better.
//
// Errors (never a pass): an Alpha outside (0, 1) (NaN included);
// unreadable, empty, cut or malformed input, or values no measurement has
// (see benchfile.Read; the message names file and line); benchmark sets that do not match (benchmarks or
// units present on one side only, all listed); and too few samples — fewer
// than the Mann–Whitney U test needs to ever reach significance after the
// Holm correction (see MinSamples).
package gate

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"

	"github.com/embgrad/embgrad/bench/benchfile"
)

// maxListed bounds how many benchmarks one error message lists.
const maxListed = 10

// DefaultAlpha is the family-wise significance level.
const DefaultAlpha = 0.05

// Options configures Compare. The zero value means the defaults.
type Options struct {
	// Alpha is the family-wise significance level (default 0.05).
	Alpha float64
	// Thresholds is the relative threshold, default 5 %.
	Thresholds Thresholds
	// Confidence is the level of the confidence intervals shown (default 0.95).
	Confidence float64
	// AllowNew accepts benchmarks that exist only in NEW (for example a
	// kernel the change adds): they are listed as new, not compared. Without
	// it they are a mismatch error. Benchmarks missing from NEW are always an
	// error.
	AllowNew bool
	// Paired compares each time-like row (sec/op and the rates …/s) of
	// the two sides pair by pair: the i-th sample of a benchmark in OLD
	// and the i-th in NEW must come from the two runs of one interleaved
	// pair (as `embgrad gate -base` runs them, ABBA). The test is then the
	// Wilcoxon signed-rank test of log(new/old) (SignedRank), and the
	// change is the median of the per-pair ratios. A drift of the machine
	// that slows both runs of a pair cancels in the ratio; between
	// independent samples it is noise. Both sides must have the same
	// number of samples of each such row. Rows of exact units whose values
	// vary (B/op) stay unpaired (Mann–Whitney U).
	Paired bool
	// Family, if larger than the number of hypotheses tested, is the size
	// of the Holm family: the missing hypotheses count with p = 1. The
	// extension of a sequential run (Options.Screen) tests only the
	// suspects, but against the whole first family, so that choosing which
	// benchmarks to extend cannot raise the false-alarm rate: Holm is
	// monotone, and a p of 1 for every benchmark not extended can only
	// remove rejections from a valid Holm test of all of them.
	Family int
	// Screen, when > 0, also makes a row a suspect (Row.Suspect: extend the
	// run, decide on the extension) when its Holm-adjusted p is ≤ Screen
	// and it is worse at all (cost > 0), not only when it regressed. It
	// must be 0 or ≥ Alpha.
	Screen float64
}

// alpha returns the level, DefaultAlpha for the zero value. Anything else
// outside (0, 1) is an error: NaN compares false with every bound, and
// would switch off both significance and the too-few-samples refusal.
func (o Options) alpha() (float64, error) {
	switch {
	case o.Alpha == 0:
		return DefaultAlpha, nil
	case !(o.Alpha > 0 && o.Alpha < 1):
		return 0, fmt.Errorf("alpha %g: want 0 < alpha < 1", o.Alpha)
	}
	return o.Alpha, nil
}

func (o Options) screen(alpha float64) (float64, error) {
	if o.Screen == 0 {
		return 0, nil
	}
	if !(o.Screen >= alpha && o.Screen <= 1) {
		return 0, fmt.Errorf("screen level %g: want 0 (off) or alpha %g ≤ screen ≤ 1", o.Screen, alpha)
	}
	return o.Screen, nil
}

func (o Options) confidence() float64 {
	if !(o.Confidence > 0 && o.Confidence < 1) { // NaN too
		return 0.95
	}
	return o.Confidence
}

// Outcome is the gate's decision.
type Outcome int

const (
	Pass Outcome = iota
	Regression
)

func (o Outcome) String() string {
	if o == Regression {
		return "REGRESSION"
	}
	return "PASS"
}

// Verdict classifies one comparison.
type Verdict int

const (
	Unchanged       Verdict = iota // not significant (or exact and equal)
	WithinThreshold                // significant, but smaller than the threshold
	Improved                       // significant and better beyond the threshold (exact: any improvement)
	Regressed                      // significant and worse beyond the threshold (exact: any worsening)
	Unconfirmed                    // regressed, but a re-run of the suspect did not confirm it
)

// Row is one (benchmark, unit) comparison.
type Row struct {
	Name string // full benchmark name, e.g. BenchmarkBackward/impl=scatter/…-2
	Unit string // tidied unit, e.g. sec/op, B/s, tokens/s, allocs/op

	Better         int  // +1 higher is better, -1 lower is better
	BetterInferred bool // no metadata or default knew the direction
	Exact          bool // compared exactly, not statistically

	Old, New   benchmath.Summary
	NOld, NNew int

	P     float64 // Mann–Whitney U p-value (0 for exact units)
	PHolm float64 // Holm-adjusted p-value (0 for exact units)

	Delta     float64 // new/old - 1 of the centers
	Cost      float64 // worsening as a fraction: new/old-1 (lower better) or old/new-1 (higher better)
	Threshold float64 // relative threshold that applied (fraction)

	Verdict  Verdict
	Warnings []string

	// Paired: tested pair by pair (Options.Paired); NPairs pairs (zero
	// differences included).
	Paired bool
	NPairs int
	// Suspect: a regression, or (Options.Screen) uncertain enough to
	// extend the run.
	Suspect bool

	alpha float64
}

// Report is the result of a comparison.
type Report struct {
	OldPath, NewPath string
	Alpha            float64
	Thresholds       string // as given, e.g. "5%, dist=same=10%"
	Tests            int    // size of the Holm family (statistical comparisons)
	Paired           bool   // Options.Paired
	Family           int    // Holm family size when Options.Family was given (the larger of it and Tests), else 0
	Rows             []Row
	Added            []string // benchmarks only in NEW (with AllowNew)
	Notes            []string
	Outcome          Outcome

	// Rerun, when set, is the comparison of fresh samples of the suspects
	// (see Confirm).
	Rerun *Report
}

// Suspects returns the names of the benchmarks with a suspect row (a
// regressed one, and with Options.Screen an uncertain one), in report
// order.
func (r *Report) Suspects() []string {
	var names []string
	for _, row := range r.Rows {
		if row.Suspect {
			names = appendOnce(names, row.Name)
		}
	}
	return names
}

// Confirm applies a re-run of the suspects: rerun compares fresh OLD and NEW
// samples of the benchmarks Suspects named (collected after the first
// comparison, with its own Holm family). A regression stands only if the
// re-run shows it too; otherwise its verdict becomes Unconfirmed. Because
// the re-run's samples are independent of the first round's, a false alarm
// must survive two tests that each control the family-wise error at alpha,
// while a real slowdown shows up in both. The outcome is recomputed.
//
// With a pooled or sequential re-run (rerun compares the first samples and
// the re-run's together) the same rule makes the extension decide: a
// suspect row that regressed there is a regression (also when the first
// look only screened it), one that did not is not (a first-look
// regression becomes Unconfirmed).
func (r *Report) Confirm(rerun *Report) {
	r.Rerun = rerun
	again := map[[2]string]bool{}
	for _, row := range rerun.Rows {
		if row.Verdict == Regressed {
			again[[2]string{row.Name, row.Unit}] = true
		}
	}
	r.Outcome = Pass
	for i := range r.Rows {
		row := &r.Rows[i]
		if !row.Suspect && row.Verdict != Regressed {
			continue
		}
		switch {
		case again[[2]string{row.Name, row.Unit}]:
			row.Verdict = Regressed
			r.Outcome = Regression
		case row.Verdict == Regressed:
			row.Verdict = Unconfirmed
		}
	}
}

// Regressions returns the rows that regressed.
func (r *Report) Regressions() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Verdict == Regressed {
			out = append(out, row)
		}
	}
	return out
}

// MinPValue is the smallest two-sided p-value the exact Mann–Whitney U test
// can produce for sample sizes n1 and n2: both samples completely separated,
// which is 2 of the C(n1+n2, n1) equally likely orderings under the null
// hypothesis (1 if either sample is empty). Ties only make it larger.
func MinPValue(n1, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	// 2 / C(n1+n2, n1), computed in logs to avoid overflow.
	lc, _ := math.Lgamma(float64(n1 + n2 + 1))
	l1, _ := math.Lgamma(float64(n1 + 1))
	l2, _ := math.Lgamma(float64(n2 + 1))
	return math.Min(1, 2*math.Exp(-(lc-l1-l2)))
}

// MinSamples returns the smallest n such that n samples on each side can
// reach a p-value ≤ level at all (MinPValue(n, n) ≤ level). For level 0.05
// it is 4 (3+3 gives at best p = 0.1, 4+4 gives 0.029); with the Holm
// correction over m comparisons the first step tests at alpha/m, so the
// gate requires MinSamples(alpha/m).
func MinSamples(level float64) int {
	n := 1
	for MinPValue(n, n) > level && n < 1000 {
		n++
	}
	return n
}

type series struct {
	name, unit string
	key        benchproc.Key
}

// Compare compares the two sides of d. It returns an error — never a
// Report — when the sets do not match or there are too few samples to
// decide.
func Compare(d *Data, opt Options) (*Report, error) {
	alpha, err := opt.alpha()
	if err != nil {
		return nil, err
	}
	// Timings from another OS or architecture say nothing about this
	// change; a different cpu line stays a note (one VM can report it
	// differently across boots).
	for _, k := range []string{"goos", "goarch"} {
		if o, n := d.Old.config[k], d.New.config[k]; o != "" && n != "" && o != n {
			return nil, &MismatchError{msg: fmt.Sprintf("results from different platforms: %s is %q in OLD %s but %q in NEW %s", k, o, d.Old.Path, n, d.New.Path)}
		}
	}
	screen, err := opt.screen(alpha)
	if err != nil {
		return nil, err
	}
	conf := opt.confidence()
	rep := &Report{
		Paired:     opt.Paired,
		OldPath:    d.Old.Path,
		NewPath:    d.New.Path,
		Alpha:      alpha,
		Thresholds: opt.Thresholds.String(),
	}

	// Match the sets: benchmark names first, then units per benchmark.
	var onlyOld, onlyNew, unitMismatch []string
	var all []series
	for _, k := range d.keys {
		s := series{"Benchmark" + k.Get(d.nameField), k.Get(d.unitField), k}
		_, inOld := d.Old.values[k]
		_, inNew := d.New.values[k]
		switch {
		case inOld && inNew:
			all = append(all, s)
		case !d.New.names[s.name]:
			onlyOld = appendOnce(onlyOld, s.name)
		case !d.Old.names[s.name]:
			onlyNew = appendOnce(onlyNew, s.name)
		case inOld:
			unitMismatch = append(unitMismatch, fmt.Sprintf("%s: unit %s only in OLD", s.name, s.unit))
		default:
			unitMismatch = append(unitMismatch, fmt.Sprintf("%s: unit %s only in NEW", s.name, s.unit))
		}
	}
	if opt.AllowNew {
		rep.Added, onlyNew = onlyNew, nil
	}
	if len(onlyOld)+len(onlyNew)+len(unitMismatch) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "benchmark sets do not match (OLD %s, NEW %s):", d.Old.Path, d.New.Path)
		list := func(title string, names []string) {
			if len(names) > 0 {
				fmt.Fprintf(&b, "\n  %s (%d):", title, len(names))
				for _, n := range names {
					fmt.Fprintf(&b, "\n\t%s", n)
				}
			}
		}
		list("only in OLD", onlyOld)
		list("only in NEW", onlyNew)
		list("units differ", unitMismatch)
		return nil, &MismatchError{msg: b.String(), OnlyOld: onlyOld, OnlyNew: onlyNew, Units: unitMismatch}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no benchmark is present in both %s and %s", d.Old.Path, d.New.Path)
	}

	// Unit direction and assumption; conflicting metadata is an error.
	units, err := mergeUnits(d, all)
	if err != nil {
		return nil, err
	}

	rows := make([]Row, len(all))
	var stat []int // indexes of statistical (non-exact) rows
	for i, s := range all {
		r := &rows[i]
		r.Name, r.Unit = s.name, s.unit
		r.Better = better(units, s.unit)
		if r.Better == 0 {
			r.BetterInferred = true
			r.Better = -1
		}
		exactUnit := units.GetAssumption(s.unit) == benchmath.AssumeExact || s.unit == "allocs/op" || s.unit == "B/op"
		r.Threshold = opt.Thresholds.For(s.name)
		r.alpha = alpha
		thr := benchmath.Thresholds{CompareAlpha: alpha}
		so := benchmath.NewSample(append([]float64(nil), d.Old.values[s.key]...), &thr)
		sn := benchmath.NewSample(append([]float64(nil), d.New.values[s.key]...), &thr)
		r.NOld, r.NNew = len(so.Values), len(sn.Values)
		// An exact unit is compared exactly only if the data are exact:
		// every sample of a side the same value. B/op in particular is often
		// not (allocations amortized over b.N, pooled buffers, goroutine
		// start-up): comparing one value of a varying sample would make any
		// run-to-run wobble a "regression", so such a row is tested like
		// any other unit, and the summary says why.
		r.Exact = exactUnit && constant(so.Values) && constant(sn.Values)
		if exactUnit && !r.Exact {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s is assumed exact but its values vary (OLD %s, NEW %s): compared statistically instead",
				s.unit, valueRange(so.Values), valueRange(sn.Values)))
		}
		if r.Exact {
			r.Old, r.New = benchmath.AssumeExact.Summary(so, conf), benchmath.AssumeExact.Summary(sn, conf)
		} else {
			r.Old, r.New = benchmath.AssumeNothing.Summary(so, conf), benchmath.AssumeNothing.Summary(sn, conf)
			stat = append(stat, i)
		}
		r.Delta, r.Cost = change(r.Old.Center, r.New.Center, r.Better)
		switch {
		case r.Exact:
		case opt.Paired && !exactUnit:
			if err := r.pair(d.Old.values[s.key], d.New.values[s.key], d.Old.Path, d.New.Path); err != nil {
				return nil, err
			}
		default:
			c := benchmath.AssumeNothing.Compare(so, sn)
			r.P = c.P
			for _, w := range c.Warnings {
				r.Warnings = append(r.Warnings, w.Error())
			}
		}
	}
	hyps := hypotheses(rows, stat)
	rep.Tests = len(hyps)
	family := len(hyps)
	if opt.Family > family {
		family = opt.Family
	}
	if opt.Family > 0 {
		rep.Family = family
	}
	// A hypothesis' p: its rows' largest (they are one test; paired rates
	// can differ from sec/op in the last digits of a printed rate).
	hypP := make([]float64, len(hyps))
	for j, h := range hyps {
		for _, i := range h {
			hypP[j] = math.Max(hypP[j], rows[i].P)
		}
	}

	// Too few samples: if the best possible p-value of some comparison
	// cannot pass the first (strictest) Holm step alpha/m, the gate could
	// never flag that benchmark — refuse rather than pass blindly.
	if m := family; len(hyps) > 0 {
		level := alpha / float64(m)
		need := MinSamples(level)
		var short []string
		for _, i := range stat {
			r := &rows[i]
			if r.Paired {
				if MinPairedPValue(r.NPairs) > level {
					short = append(short, fmt.Sprintf("%s %s: %d pairs (paired: the signed-rank test needs ≥ %d)", r.Name, r.Unit, r.NPairs, MinPairs(level)))
				}
				continue
			}
			if MinPValue(r.NOld, r.NNew) > level {
				short = append(short, fmt.Sprintf("%s %s: %d OLD + %d NEW samples", r.Name, r.Unit, r.NOld, r.NNew))
			}
		}
		if len(short) > 0 {
			if len(short) > maxListed {
				short = append(short[:maxListed], fmt.Sprintf("... and %d more", len(short)-maxListed))
			}
			return nil, &TooFewError{
				Need: need,
				msg: fmt.Sprintf("too few samples: the Mann–Whitney U test on n1+n2 samples cannot give p below 2/C(n1+n2,n1), "+
					"and with the Holm correction over %d comparisons the smallest p must be ≤ %g/%d = %.3g, "+
					"which needs ≥ %d samples per side (e.g. -count %d):\n\t%s",
					m, alpha, m, level, need, need, strings.Join(short, "\n\t")),
			}
		}
	}

	// Holm–Bonferroni: adjusted p_(j) = max_{i≤j} min(1, (m-i)·p_(i)) over
	// the ascending p-values; significant when adjusted p ≤ alpha.
	// The family is the hypotheses, not the rows (see hypotheses).
	order := make([]int, len(hyps))
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return hypP[order[a]] < hypP[order[b]] })
	run := 0.0
	for j, o := range order {
		h := hyps[o]
		adj := math.Min(1, float64(family-j)*hypP[o])
		run = math.Max(run, adj)
		for _, i := range h {
			rows[i].PHolm = run
		}
	}

	for i := range rows {
		r := &rows[i]
		switch {
		case r.Exact:
			switch {
			case r.Cost > 0:
				r.Verdict = Regressed
			case r.Cost < 0:
				r.Verdict = Improved
			}
		case r.PHolm > alpha:
			r.Verdict = Unchanged
		case r.Cost > r.Threshold:
			r.Verdict = Regressed
		case r.Cost < 0 && costImprovement(r.Cost) > r.Threshold:
			r.Verdict = Improved
		default:
			r.Verdict = WithinThreshold
		}
		if r.Verdict == Regressed {
			rep.Outcome = Regression
		}
		r.Suspect = r.Verdict == Regressed ||
			(screen > 0 && !r.Exact && r.PHolm <= screen && r.Cost > 0)
	}
	rep.Rows = rows
	rep.Notes = notes(d, rows)
	return rep, nil
}

// better is a unit's direction from metadata, else from the known units
// (0: unknown).
func better(units benchfmt.UnitMetadataMap, unit string) int {
	if b := units.GetBetter(unit); b != 0 {
		return b
	}
	return benchfile.KnownBetter(unit)
}

// mergeUnits checks that the two sides agree on each compared unit's
// metadata — the same "better" and "assume" values where both have them,
// and the same direction where only one side declares it (against the
// other side's known or inferred direction) — and returns the union.
func mergeUnits(d *Data, all []series) (benchfmt.UnitMetadataMap, error) {
	done := map[string]bool{}
	for _, s := range all {
		if done[s.unit] {
			continue
		}
		done[s.unit] = true
		for _, key := range []string{"better", "assume"} {
			om, nm := d.Old.units.Get(s.unit, key), d.New.units.Get(s.unit, key)
			if om != nil && nm != nil && om.Value != nm.Value {
				of, ol := om.Pos()
				nf, nl := nm.Pos()
				return nil, fmt.Errorf("unit %s: %s=%s at %s:%d but %s=%s at %s:%d", s.unit, key, om.Value, of, ol, key, nm.Value, nf, nl)
			}
		}
		ob, nb := better(d.Old.units, s.unit), better(d.New.units, s.unit)
		if ob == 0 {
			ob = -1
		}
		if nb == 0 {
			nb = -1
		}
		if ob != nb {
			m, other := d.New.units.Get(s.unit, "better"), d.Old.Path
			if m == nil {
				m, other = d.Old.units.Get(s.unit, "better"), d.New.Path
			}
			f, l := m.Pos()
			return nil, fmt.Errorf("unit %s: better=%s at %s:%d, but %s does not say so (it would be %s-is-better there): "+
				"declare the direction in both files or in neither", m.OrigUnit, m.Value, f, l, other, dirWord(-betterSign(m.Value)))
		}
	}
	units := benchfmt.UnitMetadataMap{}
	for k, v := range d.Old.units {
		units[k] = v
	}
	for k, v := range d.New.units {
		units[k] = v
	}
	return units, nil
}

func betterSign(v string) int {
	if v == "higher" {
		return 1
	}
	return -1
}

func dirWord(b int) string {
	if b > 0 {
		return "higher"
	}
	return "lower"
}

// constant reports whether the sorted values are all the same.
func constant(sorted []float64) bool {
	return len(sorted) > 0 && sorted[0] == sorted[len(sorted)-1]
}

func valueRange(sorted []float64) string {
	if constant(sorted) {
		return fmt.Sprint(sorted[0])
	}
	return fmt.Sprintf("%v…%v", sorted[0], sorted[len(sorted)-1])
}

// change returns delta = new/old-1 and the cost change: the worsening as a
// fraction, new/old-1 when lower is better and old/new-1 when higher is
// better (negative when it improved).
func change(old, new float64, better int) (delta, cost float64) {
	switch {
	case old == new:
		return 0, 0
	case old == 0:
		delta = math.Inf(1)
		if new < 0 {
			delta = math.Inf(-1)
		}
	default:
		delta = new/old - 1
	}
	if better < 0 {
		return delta, delta
	}
	if new == 0 {
		return delta, math.Inf(1)
	}
	return delta, old/new - 1
}

// costImprovement turns a negative cost change (new cost = (1+c)·old) into
// the symmetric speed-up fraction (old/new - 1 in cost terms), so a 5 %
// threshold means "5 % faster" for improvements as it means "5 % slower"
// for regressions.
func costImprovement(c float64) float64 {
	if c <= -1 {
		return math.Inf(1)
	}
	return 1/(1+c) - 1
}

func notes(d *Data, rows []Row) []string {
	var out []string
	var inferred []string
	for _, r := range rows {
		if r.BetterInferred {
			dir := "lower"
			if r.Better > 0 {
				dir = "higher"
			}
			inferred = appendOnce(inferred, r.Unit+" ("+dir+" is better)")
		}
	}
	if len(inferred) > 0 {
		out = append(out, "no direction metadata for "+strings.Join(inferred, ", ")+
			"; inferred from the unit name (add a line like `Unit tokens/s better=higher` to the results)")
	}
	for _, k := range []string{"goos", "goarch", "cpu"} {
		if o, n := d.Old.config[k], d.New.config[k]; o != n {
			out = append(out, fmt.Sprintf("config %s differs: OLD %q, NEW %q", k, o, n))
		}
	}
	for _, s := range []*Side{d.Old, d.New} {
		var mixed []string
		names := make([]string, 0, len(s.residue))
		for n := range s.residue {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			for _, f := range benchproc.NonSingularFields(s.residue[n]) {
				mixed = appendOnce(mixed, f.Name)
			}
		}
		if len(mixed) > 0 {
			out = append(out, fmt.Sprintf("%s: samples of one benchmark come from different configurations (%s differ); they were pooled",
				s.Path, strings.Join(mixed, ", ")))
		}
	}
	return out
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// MismatchError reports benchmark sets that do not match.
type MismatchError struct {
	msg              string
	OnlyOld, OnlyNew []string
	Units            []string
}

func (e *MismatchError) Error() string { return e.msg }

// TooFewError reports too few samples to ever detect a difference.
type TooFewError struct {
	msg  string
	Need int // samples per side needed
}

func (e *TooFewError) Error() string { return e.msg }

// hypotheses groups the statistical rows into the distinct tests they are.
// A benchmark's rates (B/s, tokens/s, GFLOP/s) are its time per op times a
// constant, so Mann–Whitney ranks them exactly as it ranks sec/op and gives
// the same U and the same p: they are one hypothesis reported in several
// units, and counting each as its own test would make Holm three or four
// times stricter than the number of real comparisons warrants. Rows of one
// benchmark with the same sample sizes and bit-identical p are grouped; a
// truly independent unit that ties on p by coincidence merely shares its
// benchmark's verdict.
//
// Paired rows are grouped by benchmark alone (sec/op and the rates …/s):
// the signed-rank test ranks |log(new/old)|, and a rate printed with two
// decimals can swap two nearly equal ratios, so its p need not be
// bit-identical to sec/op's; the group's p is its rows' largest.
func hypotheses(rows []Row, stat []int) [][]int {
	type key struct {
		name       string
		p          float64
		nOld, nNew int
	}
	index := map[key]int{}
	var out [][]int
	for _, i := range stat {
		r := &rows[i]
		k := key{r.Name, r.P, r.NOld, r.NNew}
		if r.Paired {
			k = key{name: r.Name, p: -1, nOld: r.NPairs}
		}
		j, ok := index[k]
		if !ok {
			j = len(out)
			index[k] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], i)
	}
	return out
}

// pair tests the row pair by pair: old[i] and new[i] are the two runs of
// pair i (file order). It sets P, NPairs, Delta and Cost (the median of the
// per-pair ratios).
func (r *Row) pair(old, new []float64, oldPath, newPath string) error {
	if len(old) != len(new) {
		return &PairingError{msg: fmt.Sprintf("paired comparison: %s %s has %d samples in OLD %s but %d in NEW %s; "+
			"pairs need one sample of each side per interleaved pair (compare unpaired without -paired)",
			r.Name, r.Unit, len(old), oldPath, len(new), newPath)}
	}
	d := make([]float64, len(old))
	ratio := make([]float64, len(old))
	inv := make([]float64, len(old))
	for i := range old {
		if !(old[i] > 0 && new[i] > 0) {
			return &PairingError{msg: fmt.Sprintf("paired comparison: %s %s: pair %d has a value ≤ 0 (OLD %g, NEW %g); log ratios need positive values", r.Name, r.Unit, i+1, old[i], new[i])}
		}
		ratio[i] = new[i] / old[i]
		inv[i] = old[i] / new[i]
		d[i] = math.Log(new[i]) - math.Log(old[i])
	}
	p, _, _ := SignedRank(d)
	r.P, r.Paired, r.NPairs = p, true, len(old)
	r.Delta = median(ratio) - 1
	if r.Better < 0 {
		r.Cost = r.Delta
	} else {
		r.Cost = median(inv) - 1
	}
	return nil
}

// PairingError reports samples that cannot be paired.
type PairingError struct{ msg string }

func (e *PairingError) Error() string { return e.msg }

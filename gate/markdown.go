package gate

import (
	"fmt"
	"io"
	"math"
	"strings"

	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"
)

// Markdown writes the report as GitHub-flavoured markdown suitable for a
// pull-request comment or $GITHUB_STEP_SUMMARY. title heads the summary
// (e.g. "Benchmark gate"); extra lines (e.g. the command and the result
// files) go under it.
func (r *Report) Markdown(w io.Writer, title string, extra ...string) error {
	var b strings.Builder
	reg, imp, unc := 0, 0, 0
	for _, row := range r.Rows {
		switch row.Verdict {
		case Regressed:
			reg++
		case Improved:
			imp++
		case Unconfirmed:
			unc++
		}
	}
	mark := "✅"
	if r.Outcome == Regression {
		mark = "❌"
	}
	fmt.Fprintf(&b, "## %s: %s %s\n\n", title, mark, r.Outcome)
	fmt.Fprintf(&b, "%d benchmark×unit comparisons: %d regressed, %d improved", len(r.Rows), reg, imp)
	if unc > 0 {
		fmt.Fprintf(&b, ", %d suspected but not confirmed on re-run", unc)
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "- OLD: `%s`\n- NEW: `%s`\n", r.OldPath, r.NewPath)
	for _, e := range extra {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	test := "Mann–Whitney U"
	if r.Paired {
		test = "paired: Wilcoxon signed-rank on log(new/old) of each interleaved pair of runs (delta: the median pair ratio)"
	}
	fmt.Fprintf(&b, "- %s, alpha %g, Holm–Bonferroni over %d tests (a benchmark's rates in several units are one test); threshold %s; exact units (allocs/op, B/op, assume=exact) fail on any increase while their values are constant\n",
		test, r.Alpha, r.Tests, r.Thresholds)
	b.WriteString("\n")
	changed := func(row Row) bool { return row.Verdict != Unchanged }
	if n := r.count(changed); n > 0 {
		b.WriteString(r.table(changed))
	} else {
		b.WriteString("No significant change beyond noise.\n")
	}
	stat := func(row Row) bool { return !row.Exact }
	if n := r.count(stat); n > 0 {
		fmt.Fprintf(&b, "\n<details><summary>All %d statistical comparisons</summary>\n\n%s\n</details>\n", n, r.table(stat))
	}
	if r.Rerun != nil && r.Rerun.Family > 0 {
		fmt.Fprintf(&b, "\nExtension of the suspects (sequential: the first look only screened; first and extension samples together decide; Holm over %d tests, at least the first look's family):\n\n", r.Rerun.Family)
		b.WriteString(r.Rerun.table(func(row Row) bool { return !row.Exact || row.Verdict != Unchanged }))
	} else if r.Rerun != nil {
		fmt.Fprintf(&b, "\nRe-run of the suspects (fresh interleaved samples; a regression stands only if it shows here too; Holm over %d tests):\n\n", r.Rerun.Tests)
		b.WriteString(r.Rerun.table(func(row Row) bool { return !row.Exact || row.Verdict != Unchanged }))
	}
	if len(r.Added) > 0 {
		fmt.Fprintf(&b, "\nNew benchmarks (only in NEW, not compared):\n\n")
		for _, n := range r.Added {
			fmt.Fprintf(&b, "- `%s`\n", n)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	var warn []string
	for _, row := range r.Rows {
		for _, w := range row.Warnings {
			warn = append(warn, fmt.Sprintf("`%s` %s: %s", row.Name, row.Unit, w))
		}
	}
	if len(warn) > 0 {
		b.WriteString("\nWarnings:\n\n")
		for _, w := range warn {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) count(keep func(Row) bool) int {
	n := 0
	for _, row := range r.Rows {
		if keep(row) {
			n++
		}
	}
	return n
}

// table returns the markdown table of the rows keep selects.
func (r *Report) table(keep func(Row) bool) string {
	var b strings.Builder
	b.WriteString("| benchmark | unit | old ± CI | new ± CI | delta | p | p (Holm) | verdict |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|---|\n")
	for _, row := range r.Rows {
		if !keep(row) {
			continue
		}
		unit := row.Unit
		if row.Better > 0 {
			unit += " ↑"
		} else {
			unit += " ↓"
		}
		scaler := benchunit.CommonScale([]float64{row.Old.Center, row.New.Center}, benchunit.ClassOf(row.Unit))
		p, ph := fmtP(row.P), fmtP(row.PHolm)
		if row.Exact {
			p, ph = "exact", "exact"
		}
		delta := fmtDelta(row.Delta)
		if row.Exact && row.Old.Center == 0 && row.New.Center != 0 {
			delta = "from 0"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n",
			row.Name, unit, fmtSummary(scaler, row.Old, row.Exact), fmtSummary(scaler, row.New, row.Exact),
			delta, p, ph, verdictText(row))
	}
	return b.String()
}

func fmtSummary(s benchunit.Scaler, sum benchmath.Summary, exact bool) string {
	if exact {
		return benchunit.NoOpScaler.Format(sum.Center)
	}
	v := s.Format(sum.Center)
	return v + " ± " + sum.PctRangeString()
}

func fmtP(p float64) string {
	switch {
	case p == 0:
		return "0"
	case p < 0.001:
		return fmt.Sprintf("%.1e", p)
	default:
		return fmt.Sprintf("%.3f", p)
	}
}

func fmtDelta(d float64) string {
	switch {
	case math.IsInf(d, 0) || math.IsNaN(d):
		return "?"
	case d == 0:
		return "0.00%"
	default:
		return fmt.Sprintf("%+.2f%%", 100*d)
	}
}

func verdictText(r Row) string {
	thr := fmtPct(r.Threshold)
	switch r.Verdict {
	case Regressed:
		if r.Exact {
			return "❌ **regression** (exact unit increased)"
		}
		return fmt.Sprintf("❌ **regression** (%s worse, > %s)", fmtPct3(r.Cost), thr)
	case Improved:
		if r.Exact {
			return "improved (exact)"
		}
		return fmt.Sprintf("improved (%s better)", fmtPct3(costImprovement(r.Cost)))
	case Unconfirmed:
		return fmt.Sprintf("suspect (%s worse) but not confirmed on re-run", fmtPct3(r.Cost))
	case WithinThreshold:
		if r.Cost > 0 {
			return fmt.Sprintf("ok: %s worse, within %s", fmtPct3(r.Cost), thr)
		}
		return fmt.Sprintf("ok: %s better, within %s", fmtPct3(costImprovement(r.Cost)), thr)
	default:
		if r.Exact {
			return "same"
		}
		if r.P <= r.alpha {
			return fmt.Sprintf("~ (p ≤ %g alone, not after Holm)", r.alpha)
		}
		return "~ (not significant)"
	}
}

func fmtPct3(f float64) string {
	if math.IsInf(f, 0) {
		return "∞%"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// ErrorMarkdown is the summary written when the gate could not decide.
func ErrorMarkdown(w io.Writer, title string, err error, extra ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s: ⚠️ ERROR\n\n", title)
	b.WriteString("The gate could not compare the benchmarks, so it did not pass:\n\n")
	b.WriteString("```\n" + strings.TrimRight(err.Error(), "\n") + "\n```\n")
	if len(extra) > 0 {
		b.WriteString("\n")
		for _, e := range extra {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	_, werr := io.WriteString(w, b.String())
	return werr
}

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/embgrad/embgrad/cmd/embgrad/internal/benchrun"
	"github.com/embgrad/embgrad/gate"
)

func init() {
	commands["gate"] = command{"compare benchmark results OLD.txt NEW.txt, or -base REV against the working tree; exit 0 pass, 1 regression, 2 error", runGate}
}

const gateTitle = "Benchmark gate"

// gateMinCount is the least -count of the -base form: at n = 10 per side
// the Mann–Whitney U test can reach p = 1.1e-5, enough for a Holm family of
// thousands of comparisons.
const gateMinCount = 10

// The defaults of the re-run rule, chosen by the calibration in
// results/GATE.md.
const (
	gateDefaultConfirm = "seq"
	gateDefaultScreen  = 1 // extend every benchmark that is slower at all
)

type gateFlags struct {
	base      string
	bench     string
	count     int
	benchtime string
	alpha     float64
	md        string
	out       string
	allowNew  bool
	rerun     bool
	confirm   string // "seq", "pooled" or "and" (gatebase.go)
	paired    bool
	screen    float64
	extend    int
	testflags gateMultiFlag
	opt       gate.Options
}

type gateMultiFlag []string

func (m *gateMultiFlag) String() string     { return strings.Join(*m, " ") }
func (m *gateMultiFlag) Set(s string) error { *m = append(*m, s); return nil }

const gateUsage = `usage:
  embgrad gate [flags] OLD.txt NEW.txt
  embgrad gate -base REV [flags]

Compares Go benchmark results (benchfmt). Per benchmark: the Mann–Whitney U
test at -alpha with a Holm–Bonferroni correction over the benchmarks (a
benchmark's rates give the same p as its time and count as one test), plus
a relative -threshold on the change of the medians, per unit;
allocs/op, B/op and units with "assume=exact" fail on any increase.
With -base, builds the ./bench test binaries of REV (in a temporary git
worktree) and of the working tree, runs them interleaved -count times each,
keeps both result files, compares, and re-runs suspects before failing.

Exit status: 0 pass, 1 regression, 2 error (missing, empty, cut or malformed
input, values no measurement has, unit directions that disagree, benchmark
sets that do not match, too few samples, build/run failure). A -md file that
cannot be written is reported on stderr and does not change the status.

flags:
`

func runGate(stdout, stderr io.Writer, args []string) error {
	var f gateFlags
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, gateUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.base, "base", "", "git revision to compare the working tree against (builds and runs both)")
	fs.StringVar(&f.bench, "bench", ".", "with -base: benchmark regexp (go test -bench)")
	fs.IntVar(&f.count, "count", gateMinCount, fmt.Sprintf("with -base: interleaved runs per side (≥ %d)", gateMinCount))
	fs.StringVar(&f.benchtime, "benchtime", "", "with -base: go test -benchtime per run (default: go test's 1s)")
	fs.Var(&f.opt.Thresholds, "threshold", "relative threshold PERCENT (default 5), or REGEXP=PERCENT for benchmarks whose full name matches; repeatable, last match wins")
	fs.Float64Var(&f.alpha, "alpha", gate.DefaultAlpha, "family-wise significance level (Holm–Bonferroni)")
	fs.StringVar(&f.md, "md", "", "also write the markdown summary to this file (written on error too)")
	fs.StringVar(&f.out, "out", "", "with -base: directory for the result files (default: a new temporary directory, kept)")
	fs.BoolVar(&f.allowNew, "allow-new", false, "benchmarks only in NEW (e.g. a new kernel) are listed, not an error")
	fs.BoolVar(&f.rerun, "rerun", true, "with -base: re-run suspected regressions (fresh interleaved samples) and fail only if confirmed")
	fs.StringVar(&f.confirm, "confirm", gateDefaultConfirm, `with -base: how the re-run decides: "seq" (sequential: the first look only screens — a benchmark slower at all with Holm p ≤ -screen is extended — and the first and extension samples together decide, Holm over the first look's whole family), "pooled" (regressions only are re-run; the pooled samples decide, Holm over the suspects) or "and" (the re-run alone must confirm)`)
	fs.BoolVar(&f.paired, "paired", false, "test pair by pair (Wilcoxon signed-rank of log(new/old) of the interleaved runs, which must be in the same order in both files; -base runs them so and defaults to it)")
	fs.Float64Var(&f.screen, "screen", gateDefaultScreen, "with -base -confirm seq: Holm-adjusted p at or below which a slower benchmark is extended (alpha ≤ screen ≤ 1)")
	fs.IntVar(&f.extend, "extend", 0, "with -base: interleaved runs per side of the re-run/extension (0: 4 × -count)")
	fs.Var(&f.testflags, "testflag", "with -base: extra flag for both benchmark binaries, e.g. -testflag=-test.cpu=1 (repeatable)")

	// Accept flags after the file names too: parse, take positionals, repeat.
	var files []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return &exitError{2, fmt.Errorf("gate: %v", err)}
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		files = append(files, rest[0])
		rest = rest[1:]
	}
	f.opt.Alpha = f.alpha
	f.opt.AllowNew = f.allowNew
	// -base runs interleaved pairs: paired unless -paired=false was given
	// (the calibration in results/GATE.md chose it).
	pairedSet := false
	fs.Visit(func(fl *flag.Flag) { pairedSet = pairedSet || fl.Name == "paired" })
	if f.base != "" && !pairedSet {
		f.paired = true
	}
	f.opt.Paired = f.paired

	var err error
	switch {
	case !(f.alpha > 0 && f.alpha < 1): // NaN too
		err = fmt.Errorf("gate: -alpha %g: want 0 < alpha < 1", f.alpha)
	case f.base == "" && len(files) != 2:
		err = fmt.Errorf("gate: want OLD.txt NEW.txt (or -base REV), got %d file argument(s)", len(files))
	case f.base != "" && len(files) != 0:
		err = fmt.Errorf("gate: -base REV takes no file arguments, got %q", files)
	case f.base != "" && f.count < gateMinCount:
		err = fmt.Errorf("gate: -count %d: -base runs each side at least %d times", f.count, gateMinCount)
	case f.confirm != "pooled" && f.confirm != "and" && f.confirm != "seq":
		err = fmt.Errorf("gate: -confirm %q: want seq, pooled or and", f.confirm)
	case !(f.screen >= f.alpha && f.screen <= 1):
		err = fmt.Errorf("gate: -screen %g: want alpha %g ≤ screen ≤ 1", f.screen, f.alpha)
	case f.extend < 0:
		err = fmt.Errorf("gate: -extend %d: want ≥ 0 (0: 4 × -count)", f.extend)
	}
	if err == nil && f.base != "" {
		if _, rerr := regexp.Compile(f.bench); rerr != nil {
			err = fmt.Errorf("gate: -bench: %v", rerr)
		} else if berr := benchrun.CheckBenchtime(f.benchtime); berr != nil {
			err = fmt.Errorf("gate: %v", berr)
		}
	}
	if err != nil {
		fmt.Fprint(stderr, gateUsage)
		fs.PrintDefaults()
		return &exitError{2, err}
	}

	var rep *gate.Report
	var extra []string
	if f.base == "" {
		rep, err = gateFiles(files[0], files[1], f.opt)
	} else {
		rep, extra, err = gateBase(stderr, &f)
	}
	return gateFinish(stdout, stderr, &f, rep, extra, err)
}

// gateFiles is the comparison of two existing results files.
func gateFiles(oldPath, newPath string, opt gate.Options) (*gate.Report, error) {
	d, err := gate.Load(oldPath, newPath)
	if err != nil {
		return nil, err
	}
	return gate.Compare(d, opt)
}

// gateFinish prints the summary (and -md) and maps the outcome to the exit
// status: 0 pass, 1 regression, 2 error.
func gateFinish(stdout, stderr io.Writer, f *gateFlags, rep *gate.Report, extra []string, err error) error {
	var md bytes.Buffer
	if err != nil {
		gate.ErrorMarkdown(&md, gateTitle, err, extra...)
	} else {
		rep.Markdown(&md, gateTitle, extra...)
	}
	stdout.Write(md.Bytes())
	// The verdict must survive a summary that cannot be written: CI reads
	// the exit status, and a regression turned into an error would read as
	// a broken job rather than a slower change.
	if f.md != "" {
		if werr := os.WriteFile(f.md, md.Bytes(), 0o644); werr != nil {
			fmt.Fprintf(stderr, "gate: warning: the summary was not written to -md: %v (it is on stdout; the exit status is the verdict's)\n", werr)
		}
	}
	if err != nil {
		return &exitError{2, fmt.Errorf("gate: %w", err)}
	}
	if rep.Outcome == gate.Regression {
		regs := rep.Regressions()
		var b strings.Builder
		fmt.Fprintf(&b, "gate: %d regression(s):", len(regs))
		for _, r := range regs {
			fmt.Fprintf(&b, "\n\t%s %s", r.Name, r.Unit)
		}
		return &exitError{1, errors.New(b.String())}
	}
	return nil
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/embgrad/embgrad/gate"
	"golang.org/x/perf/benchfmt"
)

func init() {
	commands["gate"] = command{"compare benchmark results OLD.txt NEW.txt, or -base REV against the working tree; exit 0 pass, 1 regression, 2 error", runGate}
}

const gateTitle = "Benchmark gate"

// gateMinCount is the least -count of the -base form: at n = 10 per side
// the Mann–Whitney U test can reach p = 1.1e-5, enough for a Holm family of
// thousands of comparisons.
const gateMinCount = 10

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
	}
	if err == nil && f.base != "" {
		if _, rerr := regexp.Compile(f.bench); rerr != nil {
			err = fmt.Errorf("gate: -bench: %v", rerr)
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

// gateBase is the -base form: build both benchmark binaries, run them
// interleaved, compare, re-run suspects. It returns extra summary lines
// (the revisions and the kept result files).
func gateBase(stderr io.Writer, f *gateFlags) (rep *gate.Report, extra []string, err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	top, err := gateGit(ctx, "", "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, nil, fmt.Errorf("-base needs a git checkout: %v", err)
	}
	baseSHA, err := gateGit(ctx, top, "rev-parse", "--verify", "--end-of-options", f.base+"^{commit}")
	if err != nil {
		return nil, nil, fmt.Errorf("-base %s: not a commit: %v", f.base, err)
	}
	headSHA, _ := gateGit(ctx, top, "rev-parse", "HEAD")
	dirty, _ := gateGit(ctx, top, "status", "--porcelain", "--untracked-files=no")
	newDesc := "working tree at " + gateShort(headSHA)
	if dirty != "" {
		newDesc += " + uncommitted changes"
	}
	// The module (and its bench package) may sit below the repository root.
	modDir, err := gateModDir(ctx)
	if err != nil {
		return nil, nil, err
	}
	rel, err := filepath.Rel(top, modDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, nil, fmt.Errorf("module %s is not inside the git checkout %s", modDir, top)
	}

	outDir := f.out
	if outDir == "" {
		if outDir, err = os.MkdirTemp("", "embgrad-gate-results-"); err != nil {
			return nil, nil, err
		}
	} else if err = os.MkdirAll(outDir, 0o755); err != nil {
		return nil, nil, err
	}
	oldTxt, newTxt := filepath.Join(outDir, "old.txt"), filepath.Join(outDir, "new.txt")
	extra = []string{
		fmt.Sprintf("OLD = `%s` (%s), NEW = %s", f.base, gateShort(baseSHA), newDesc),
		fmt.Sprintf("runs: `-bench %s`, %d interleaved runs per side (OLD NEW, NEW OLD, …)%s", f.bench, f.count, gateBenchtimeDesc(f.benchtime)),
	}

	tmp, err := os.MkdirTemp("", "embgrad-gate-")
	if err != nil {
		return nil, extra, err
	}
	defer os.RemoveAll(tmp)
	wt := filepath.Join(tmp, "base")
	fmt.Fprintf(stderr, "gate: worktree of %s (%s) in %s\n", f.base, gateShort(baseSHA), wt)
	if _, err := gateGit(ctx, top, "worktree", "add", "--detach", "--quiet", wt, baseSHA); err != nil {
		return nil, extra, fmt.Errorf("git worktree add: %v", err)
	}
	defer func() {
		// Not ctx: clean up even after an interrupt.
		if _, rerr := gateGit(context.Background(), top, "worktree", "remove", "--force", wt); rerr != nil {
			fmt.Fprintf(stderr, "gate: warning: git worktree remove %s: %v\n", wt, rerr)
		}
		gateGit(context.Background(), top, "worktree", "prune")
	}()

	sides := []*gateSide{
		{label: "OLD", desc: f.base + " " + gateShort(baseSHA), pkgDir: filepath.Join(wt, rel, "bench"), bin: filepath.Join(tmp, "old.test"), commit: baseSHA},
		{label: "NEW", desc: newDesc, pkgDir: filepath.Join(modDir, "bench"), bin: filepath.Join(tmp, "new.test"), commit: headSHA},
	}
	for _, s := range sides {
		if st, err := os.Stat(s.pkgDir); err != nil || !st.IsDir() {
			return nil, extra, fmt.Errorf("%s (%s) has no benchmark package %s", s.label, s.desc, filepath.Join(rel, "bench"))
		}
		fmt.Fprintf(stderr, "gate: building %s benchmark binary (%s)\n", s.label, s.desc)
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", s.bin, ".")
		cmd.Dir = s.pkgDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, extra, fmt.Errorf("building the %s benchmarks (%s, in %s): %v\n%s", s.label, s.desc, s.pkgDir, err, gateTail(out))
		}
		fmt.Fprintf(stderr, "gate: built %s in %v\n", s.label, time.Since(t0).Round(time.Millisecond))
	}

	if err := gateRun(ctx, stderr, f, sides, f.bench, oldTxt, newTxt, "first round"); err != nil {
		return nil, extra, err
	}
	extra = append(extra, fmt.Sprintf("result files (kept): `%s`, `%s`", oldTxt, newTxt))
	fmt.Fprintf(stderr, "gate: results in %s and %s\n", oldTxt, newTxt)

	rep, err = gateFiles(oldTxt, newTxt, f.opt)
	if err != nil || rep.Outcome != gate.Regression || !f.rerun {
		return rep, extra, err
	}

	// Re-run the suspects with fresh interleaved samples before failing.
	suspects := rep.Suspects()
	pat := gateBenchPattern(suspects)
	fmt.Fprintf(stderr, "gate: %d suspect benchmark(s); re-running them %d times per side to confirm\n", len(suspects), f.count)
	oldRe, newRe := filepath.Join(outDir, "old-rerun.txt"), filepath.Join(outDir, "new-rerun.txt")
	if err := gateRun(ctx, stderr, f, sides, pat, oldRe, newRe, "re-run"); err != nil {
		return nil, extra, err
	}
	extra = append(extra, fmt.Sprintf("re-run files (kept): `%s`, `%s`", oldRe, newRe))
	rerun, err := gateFiles(oldRe, newRe, f.opt)
	if err != nil {
		return nil, extra, fmt.Errorf("re-run of suspects: %w", err)
	}
	rep.Confirm(rerun)
	return rep, extra, nil
}

type gateSide struct {
	label, desc, pkgDir, bin, commit string
}

// gateRun runs the two binaries interleaved in ABBA order (OLD NEW, NEW OLD,
// …: who goes first alternates, so a drift of the machine or an effect of
// running second hits both sides alike), each run
// with -test.count=1, appending their benchfmt output to oldTxt and newTxt.
func gateRun(ctx context.Context, stderr io.Writer, f *gateFlags, sides []*gateSide, pattern, oldTxt, newTxt, what string) error {
	outs := make([]*os.File, 2)
	for i, path := range []string{oldTxt, newTxt} {
		fh, err := os.Create(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		outs[i] = fh
		s := sides[i]
		// Config lines, and the direction of the rates the bench package
		// reports (go test itself prints no unit metadata).
		fmt.Fprintf(fh, "gate-side: %s\ncommit: %s\ngate-rev: %s\ngate-bench: %s\n\n", strings.ToLower(s.label), s.commit, s.desc, pattern)
		fmt.Fprintf(fh, "Unit tokens/s better=higher\nUnit B/s better=higher\nUnit GFLOP/s better=higher\n\n")
	}
	args := []string{"-test.run=^$", "-test.bench=" + pattern, "-test.count=1", "-test.benchmem"}
	if f.benchtime != "" {
		args = append(args, "-test.benchtime="+f.benchtime)
	}
	args = append(args, f.testflags...)

	start := time.Now()
	for round := 1; round <= f.count; round++ {
		order := []int{0, 1}
		if round%2 == 0 {
			order = []int{1, 0}
		}
		for _, i := range order {
			s := sides[i]
			cmd := exec.CommandContext(ctx, s.bin, args...)
			cmd.Dir = s.pkgDir
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %s benchmarks (%s) failed in round %d: %v\n%s%s", what, s.label, s.desc, round, err, gateTail(out.Bytes()), gateTail(errb.Bytes()))
			}
			if n := gateCountResults(out.Bytes()); n == 0 {
				return fmt.Errorf("%s: %s benchmarks (%s): no benchmark matches -bench %q\n%s", what, s.label, s.desc, pattern, gateTail(out.Bytes()))
			}
			if _, err := outs[i].Write(out.Bytes()); err != nil {
				return err
			}
		}
		el := time.Since(start)
		eta := time.Duration(float64(el) / float64(round) * float64(f.count-round))
		fmt.Fprintf(stderr, "gate: %s %d/%d done, %v elapsed, ETA %v\n", what, round, f.count, el.Round(time.Second), eta.Round(time.Second))
	}
	for _, fh := range outs {
		if err := fh.Close(); err != nil {
			return err
		}
	}
	return nil
}

// gateBenchPattern builds a -test.bench pattern matching exactly these
// benchmarks: each name level anchored and quoted, names joined by '|'
// (go test splits a pattern at top-level '|' into alternatives, each split
// at '/' into per-level expressions).
func gateBenchPattern(names []string) string {
	var alts []string
	for _, n := range names {
		base, parts := benchfmt.Name(n).Parts()
		levels := []string{"^" + regexp.QuoteMeta(string(base)) + "$"}
		for _, p := range parts {
			if p[0] == '-' { // GOMAXPROCS suffix, not part of the name
				continue
			}
			levels = append(levels, "^"+regexp.QuoteMeta(string(p[1:]))+"$")
		}
		alts = append(alts, strings.Join(levels, "/"))
	}
	return strings.Join(alts, "|")
}

func gateCountResults(out []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte("Benchmark")) && bytes.Contains(line, []byte("ns/op")) {
			n++
		}
	}
	return n
}

func gateGit(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func gateModDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("-base must run inside the Go module")
	}
	return filepath.Dir(mod), nil
}

func gateShort(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func gateBenchtimeDesc(bt string) string {
	if bt == "" {
		return ""
	}
	return ", `-benchtime " + bt + "`"
}

// tail returns the last lines of a command's output for an error message.
func gateTail(b []byte) string {
	const max = 40
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > max {
		lines = append([]string{"..."}, lines[len(lines)-max:]...)
	}
	s := strings.Join(lines, "\n")
	if s != "" {
		s += "\n"
	}
	return s
}

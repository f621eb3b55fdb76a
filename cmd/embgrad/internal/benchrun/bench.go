package benchrun

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/impl/registry"
)

// Options configures Matrix. The zero value of a filter selects
// everything.
type Options struct {
	Name      string   // results file name without .txt
	Dir       string   // output directory; "" is <module root>/results
	Count     int      // rounds: each runs every selected benchmark once
	Benchtime string   // -test.benchtime; "" is go test's default
	Shapes    string   // bench.SelectShapes syntax: default, all, or names
	Kernels   []string // impl= names, for every benchmark
	Dists     []string // BenchmarkBackward dist= values
	Modes     []string // BenchmarkBackward mode= values
	Memory    bool     // run BenchmarkMemory, the roofline probe
	Others    bool     // run the binary's other benchmarks (BenchmarkTied)
	Peak      bool     // run BenchmarkPeak, the compute-roofline probe, whatever the kernel filter
	Hog       int      // run beside this many CPU hogs (-embgrad.hog, bench/hog_test.go)
	Report    bool     // then report (recorded in the command line; the caller runs it)

	Binary string // a prebuilt benchmark binary instead of building ./bench (tests)
	Env    *Env   // the machine's description instead of asking git and go (tests)
}

// Default is what "embgrad bench" runs with no flags.
func Default() Options {
	return Options{Name: "latest", Count: 10, Benchtime: "100ms", Shapes: "default", Memory: true, Others: true, Peak: true}
}

// Quick is a run of a minute or two for the default command: the GPT-2
// shape, every kernel, distribution and mode, two short rounds, the memory
// probe, and the report, all under results/tmp (ignored by git).
func Quick() Options {
	o := Default()
	o.Name, o.Dir, o.Count, o.Benchtime, o.Shapes, o.Others, o.Report = "quick", filepath.Join("results", "tmp"), 2, "50ms", "gpt2", false, true
	return o
}

// CommandLine is the command that reproduces a run with these options,
// written into the results file and from there into the report.
func (o Options) CommandLine() string {
	args := []string{"go run ./cmd/embgrad bench", "-name " + o.Name, fmt.Sprint("-count ", o.Count)}
	if o.Dir != "" {
		args = append(args, "-dir "+o.Dir)
	}
	if o.Benchtime != "" {
		args = append(args, "-benchtime "+o.Benchtime)
	}
	args = append(args, "-shapes "+o.Shapes)
	for _, f := range []struct {
		name string
		list []string
	}{{"kernels", o.Kernels}, {"dists", o.Dists}, {"modes", o.Modes}} {
		if len(f.list) > 0 {
			args = append(args, "-"+f.name+" "+strings.Join(f.list, ","))
		}
	}
	if !o.Memory {
		args = append(args, "-memory=false")
	}
	if !o.Others {
		args = append(args, "-others=false")
	}
	if !o.Peak {
		args = append(args, "-peak=false")
	}
	if o.Hog > 0 {
		args = append(args, fmt.Sprint("-hog ", o.Hog))
	}
	if o.Report {
		args = append(args, "-report")
	}
	return strings.Join(args, " ")
}

// Env describes the machine and the code for the config lines.
type Env struct {
	Root       string // module root
	Commit     string // HEAD, with "-dirty" when the tree has changes
	GoVersion  string
	Gomaxprocs int
	Date       time.Time
	Loadavg    string // /proc/loadavg's 1, 5 and 15 minute averages at the start
}

// NewEnv asks go and git about the module in the working directory.
func NewEnv() (*Env, error) {
	out, err := exec.Command("go", "env", "GOMOD", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 || f[0] == os.DevNull {
		return nil, errors.New("run inside the embgrad module")
	}
	e := &Env{Root: filepath.Dir(f[0]), GoVersion: f[1], Gomaxprocs: runtime.GOMAXPROCS(0), Date: time.Now().UTC()}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil && len(strings.Fields(string(la))) >= 3 {
		e.Loadavg = strings.Join(strings.Fields(string(la))[:3], " ") // a busy machine makes noisy results
	}
	commit, err := exec.Command("git", "-C", e.Root, "rev-parse", "HEAD").Output()
	if err != nil {
		e.Commit = "unknown (not a git checkout)"
		return e, nil
	}
	e.Commit = strings.TrimSpace(string(commit))
	if st, _ := exec.Command("git", "-C", e.Root, "status", "--porcelain").Output(); len(st) > 0 {
		e.Commit += "-dirty"
	}
	return e, nil
}

// group is one top-level benchmark of the binary with its filter.
type group struct {
	name     string // BenchmarkBackward, ...
	pattern  string // -test.bench
	perRun   int    // results per round
	known    bool   // perRun is known: from the matrix, or counted in round 1
	optional bool   // the filter may leave nothing of it (other benchmarks)
}

// Matrix builds and runs the benchmark matrix in rounds and writes the
// results file, returning its path, which it also prints to stdout.
// Progress goes to stderr. Every option is checked, and the output
// directory tried, before anything is built.
func Matrix(stdout, stderr io.Writer, o Options) (string, error) {
	ctx := context.Background()
	shapes, err := bench.SelectShapes(o.Shapes)
	if err != nil {
		return "", inputErrorf("-shapes: %v", err)
	}
	if o.Count < 1 || o.Name == "" || strings.ContainsAny(o.Name, `/\`) {
		return "", inputErrorf("need -count ≥ 1 and a plain -name, got %d and %q", o.Count, o.Name)
	}
	if o.Hog < 0 || o.Hog > 64 {
		return "", inputErrorf("-hog %d: want 0 (quiet) to 64 CPU hogs", o.Hog)
	}
	if err := CheckBenchtime(o.Benchtime); err != nil {
		return "", err
	}
	env := o.Env
	if env == nil {
		if env, err = NewEnv(); err != nil {
			return "", err
		}
	}
	backward, err := backwardCases(o, shapes, env.Gomaxprocs)
	if err != nil {
		return "", err
	}
	dir := cmp.Or(o.Dir, filepath.Join(env.Root, "results"))
	if err := CheckDir(dir); err != nil {
		return "", err
	}

	bin := Binary{Path: o.Binary, Dir: filepath.Join(env.Root, "bench")}
	if bin.Path == "" {
		tmp, err := os.MkdirTemp("", "embgrad-bench-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		bin.Path = filepath.Join(tmp, "bench.test")
		fmt.Fprintln(stderr, "bench: building ./bench (go test -c)")
		if err := Build(ctx, bin.Dir, bin.Path); err != nil {
			return "", err
		}
	}
	groups, err := groups(ctx, bin.Path, o, backward, env.Gomaxprocs)
	if err != nil {
		return "", err
	}
	if len(groups) == 0 {
		return "", inputErrorf("no benchmark selected")
	}

	args := []string{"-test.run=^$", "-test.count=1", "-test.benchmem", "-" + bench.FlagShapes + "=" + o.Shapes}
	if o.Benchtime != "" {
		args = append(args, "-test.benchtime="+o.Benchtime)
	}
	if o.Hog > 0 {
		args = append(args, fmt.Sprintf("-%s=%d", bench.FlagHog, o.Hog))
	}
	var hogCPU []float64 // each run's "hog-cpu: f" line: the CPUs its hogs used
	p := &Progress{W: stderr, What: "bench", Rounds: o.Count, start: time.Now(), PerRound: func() (n int, exact bool) {
		exact = true
		for _, g := range groups {
			n += g.perRun
			exact = exact && g.known
		}
		return n, exact
	}}
	var raw []byte // every round's output, in order
	for round := 1; round <= o.Count; round++ {
		if round == 2 {
			// The binary checked every kernel's output against the
			// oracle in round 1; the inputs do not change.
			args = append(args, "-"+bench.FlagCheck+"=false")
		}
		for _, g := range groups {
			if g.optional && g.known && g.perRun == 0 {
				continue // nothing of it is selected
			}
			out, n, err := bin.Run(ctx, slices.Concat(args, []string{"-test.bench=" + g.pattern}), p.Result)
			if err != nil {
				return "", fmt.Errorf("round %d, %s: %v", round, g.name, err)
			}
			if n == 0 && !g.optional {
				return "", fmt.Errorf("%s: no benchmark matches %q", g.name, g.pattern)
			}
			g.perRun, g.known = n, true
			hogCPU = append(hogCPU, hogCPULines(out)...)
			raw = append(raw, out...)
		}
		p.Round(round)
	}

	path := filepath.Join(dir, o.Name+".txt")
	n, err := Write(path, []Config{
		{"commit", env.Commit},
		{"go", env.GoVersion},
		{"gomaxprocs", fmt.Sprint(env.Gomaxprocs)},
		{"date", env.Date.Format(time.RFC3339)},
		{"loadavg", env.Loadavg},
		{"benchtime", cmp.Or(o.Benchtime, "1s")},
		{"shapes", o.Shapes},
		{"command", o.CommandLine()},
		{"hog", hogConfig(o.Hog)},
		{"hog-cpu", hogCPUConfig(hogCPU)},
	}, raw)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "wrote %s (%d results)\n", path, n)
	return path, nil
}

// backwardCases returns the BenchmarkBackward cases the filters select,
// after checking every filter value names something, once.
func backwardCases(o Options, shapes []bench.Shape, gomaxprocs int) ([]bench.Case, error) {
	var known []string
	for _, k := range registry.Kernels() {
		known = append(known, k.Name())
	}
	for _, k := range registry.Tied() {
		known = append(known, k.Name())
	}
	for _, k := range registry.Sparse() {
		known = append(known, k.Name()) // BenchmarkSparse, run with the others
	}
	check := func(flag string, vals, valid []string) error {
		for i, v := range vals {
			if !slices.Contains(valid, v) {
				return inputErrorf("-%s %s: unknown; want some of %s", flag, v, strings.Join(valid, ", "))
			}
			if slices.Contains(vals[:i], v) {
				return inputErrorf("-%s: %s given twice", flag, v)
			}
		}
		return nil
	}
	var dists, modes []string
	for _, d := range bench.Dists() {
		dists = append(dists, string(d))
	}
	for _, m := range bench.Modes() {
		modes = append(modes, string(m))
	}
	if err := errors.Join(check("kernels", o.Kernels, known), check("dists", o.Dists, dists), check("modes", o.Modes, modes)); err != nil {
		return nil, &InputError{err}
	}
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	var cs []bench.Case
	for _, c := range bench.Cases(shapes, registry.Kernels(), gomaxprocs) {
		if in(o.Kernels, c.Impl) && in(o.Dists, string(c.Dist)) && in(o.Modes, string(c.Mode)) {
			cs = append(cs, c)
		}
	}
	return cs, nil
}

// groups lists the binary's top-level benchmarks and the pattern each runs
// with (bench.Pattern: impl= filters every family; dist= and mode= only
// BenchmarkBackward).
func groups(ctx context.Context, bin string, o Options, backward []bench.Case, gomaxprocs int) ([]*group, error) {
	names, err := List(ctx, bin)
	if err != nil {
		return nil, err
	}
	var gs []*group
	for _, name := range names {
		g := &group{name: name}
		switch name {
		case bench.Backward:
			if len(backward) == 0 {
				continue
			}
			g.pattern = bench.Pattern(name, bench.BackwardKeys, map[string][]string{
				bench.KeyImpl: o.Kernels, bench.KeyDist: o.Dists, bench.KeyMode: o.Modes})
			g.perRun, g.known = len(backward), true
		case bench.Peak:
			// A probe like BenchmarkMemory: the tied kernels' compute
			// roofline, run whatever the kernel filter; nothing of it
			// runs with the purego tag or off amd64.
			if !o.Peak {
				continue
			}
			g.pattern, g.optional = bench.Pattern(name, nil, nil), true
		case bench.Memory:
			if !o.Memory {
				continue
			}
			g.pattern = bench.Pattern(name, nil, nil)
			g.perRun, g.known = 3*len(bench.WorkerCounts(gomaxprocs)), true
		default:
			if !o.Others {
				continue
			}
			g.pattern, g.optional = bench.Pattern(name, []string{bench.KeyImpl}, map[string][]string{bench.KeyImpl: o.Kernels}), true
		}
		gs = append(gs, g)
	}
	return gs, nil
}

// hogConfig is the "hog" config line's value: the count of CPU hogs, ""
// (no line) for a quiet run.
func hogConfig(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// hogCPULines returns the values of a run's "hog-cpu: f" lines, which the
// benchmark binary prints after its results (bench/hog_test.go).
func hogCPULines(out []byte) []float64 {
	var fs []float64
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "hog-cpu:"); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				fs = append(fs, f)
			}
		}
	}
	return fs
}

// hogCPUConfig summarises the runs' hog-cpu values, the calibration of the
// load, for the results file: the range over the runs.
func hogCPUConfig(fs []float64) string {
	if len(fs) == 0 {
		return ""
	}
	lo, hi := slices.Min(fs), slices.Max(fs)
	if fmt.Sprintf("%.2f", lo) == fmt.Sprintf("%.2f", hi) {
		return fmt.Sprintf("%.2f over %d runs", lo, len(fs))
	}
	return fmt.Sprintf("%.2f–%.2f over %d runs", lo, hi, len(fs))
}

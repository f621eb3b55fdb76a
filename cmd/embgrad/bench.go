package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/impl/registry"
)

func init() {
	commands["bench"] = command{
		summary: "run the benchmark matrix and write results/<name>.txt",
		run:     benchCmd,
	}
}

// benchOptions configures runBench. The zero value of a filter selects
// everything.
type benchOptions struct {
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
	Report    bool     // then write REPORT.md from the results and peers*.txt beside them

	binary string    // a prebuilt benchmark binary instead of building ./bench (tests)
	env    *benchEnv // the machine's description instead of asking git and go (tests)
}

// defaultBenchOptions is what "embgrad bench" runs with no flags.
func defaultBenchOptions() benchOptions {
	return benchOptions{Name: "latest", Count: 10, Benchtime: "100ms", Shapes: "default", Memory: true, Others: true}
}

// quickBenchOptions is a run of a minute or two for the default command:
// the GPT-2 shape, every kernel, distribution and mode, two short rounds,
// the memory probe, and the report, all under results/tmp (ignored by git).
func quickBenchOptions() benchOptions {
	o := defaultBenchOptions()
	o.Name, o.Dir, o.Count, o.Benchtime, o.Shapes, o.Others, o.Report = "quick", filepath.Join("results", "tmp"), 2, "50ms", "gpt2", false, true
	return o
}

const benchUsage = `usage: embgrad bench [flags]

Builds the benchmark binary (go test -c ./bench) once, runs it -count rounds
(each round runs every selected benchmark once, so slow drifts of the machine
spread over all benchmarks), shows progress with an ETA on stderr, and writes
results/<name>.txt in benchfmt with the machine's config lines. Compare or
summarise with "embgrad report", "embgrad gate" or benchstat -col /impl.

Flags:
`

func benchCmd(stdout, stderr io.Writer, args []string) error {
	var o benchOptions
	if err := parseBenchFlags(&o, args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	_, err := runBench(stdout, stderr, o)
	return err
}

// parseBenchFlags sets o from the command line, starting from the defaults.
func parseBenchFlags(o *benchOptions, args []string, stderr io.Writer) error {
	*o = defaultBenchOptions()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	fs.StringVar(&o.Name, "name", o.Name, "write `results/NAME.txt`")
	fs.StringVar(&o.Dir, "dir", o.Dir, "output directory (default <module root>/results)")
	fs.IntVar(&o.Count, "count", o.Count, "rounds: samples per benchmark")
	fs.StringVar(&o.Benchtime, "benchtime", o.Benchtime, "minimum time (or Nx iterations) per sample")
	fs.StringVar(&o.Shapes, "shapes", o.Shapes, `shapes: "default" (tables ≤ 256 MB), "all" (Llama-3's table is 2.1 GB), or names from `+bench.ShapeNames())
	kernels := fs.String("kernels", "", "comma-separated kernel names (default all)")
	dists := fs.String("dists", "", "comma-separated distributions: uniform, zipf, same, text (default all)")
	modes := fs.String("modes", "", "comma-separated modes: accumulate, scratch (default both)")
	fs.BoolVar(&o.Memory, "memory", o.Memory, "run the memory-bandwidth probe (the roofline)")
	fs.BoolVar(&o.Others, "others", o.Others, "run the other benchmarks in ./bench too (BenchmarkTied)")
	fs.BoolVar(&o.Report, "report", o.Report, "then run \"embgrad report\" on the results and the peers*.txt beside them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	o.Kernels, o.Dists, o.Modes = splitList(*kernels), splitList(*dists), splitList(*modes)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// commandLine is the command that reproduces a run with these options,
// written into the results file and from there into the report.
func (o benchOptions) commandLine() string {
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
	if o.Report {
		args = append(args, "-report")
	}
	return strings.Join(args, " ")
}

// benchEnv describes the machine and the code for the config lines.
type benchEnv struct {
	root       string // module root
	commit     string // HEAD, with "-dirty" when the tree has changes
	goVersion  string
	gomaxprocs int
	date       time.Time
	loadavg    string // /proc/loadavg's 1, 5 and 15 minute averages at the start
}

func newBenchEnv() (*benchEnv, error) {
	out, err := exec.Command("go", "env", "GOMOD", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 || f[0] == os.DevNull {
		return nil, errors.New("bench: run inside the embgrad module")
	}
	e := &benchEnv{root: filepath.Dir(f[0]), goVersion: f[1], gomaxprocs: runtime.GOMAXPROCS(0), date: time.Now().UTC()}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil && len(strings.Fields(string(la))) >= 3 {
		e.loadavg = strings.Join(strings.Fields(string(la))[:3], " ") // a busy machine makes noisy results
	}
	commit, err := exec.Command("git", "-C", e.root, "rev-parse", "HEAD").Output()
	if err != nil {
		e.commit = "unknown (not a git checkout)"
		return e, nil
	}
	e.commit = strings.TrimSpace(string(commit))
	if st, _ := exec.Command("git", "-C", e.root, "status", "--porcelain").Output(); len(st) > 0 {
		e.commit += "-dirty"
	}
	return e, nil
}

// benchGroup is one top-level benchmark of the binary with its filter.
type benchGroup struct {
	name     string // BenchmarkBackward, ...
	pattern  string // -test.bench
	perRun   int    // results per round
	known    bool   // perRun is known: from the matrix, or counted in round 1
	optional bool   // the filter may leave nothing of it (other benchmarks)
}

// runBench builds and runs the benchmarks and writes the results file,
// returning its path, which it also prints to stdout. Progress goes to
// stderr.
func runBench(stdout, stderr io.Writer, o benchOptions) (string, error) {
	shapes, err := bench.SelectShapes(o.Shapes)
	if err != nil {
		return "", &exitError{2, fmt.Errorf("bench: %v", err)}
	}
	if o.Count < 1 || o.Name == "" || strings.ContainsAny(o.Name, `/\`) {
		return "", &exitError{2, fmt.Errorf("bench: need -count ≥ 1 and a plain -name, got %d and %q", o.Count, o.Name)}
	}
	env := o.env
	if env == nil {
		if env, err = newBenchEnv(); err != nil {
			return "", err
		}
	}
	backward, err := backwardCases(o, shapes, env.gomaxprocs)
	if err != nil {
		return "", &exitError{2, err}
	}

	bin := o.binary
	if bin == "" {
		tmp, err := os.MkdirTemp("", "embgrad-bench-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		bin = filepath.Join(tmp, "bench.test")
		fmt.Fprintln(stderr, "bench: building ./bench (go test -c)")
		build := exec.Command("go", "test", "-c", "-o", bin, "./bench")
		build.Dir = env.root
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("bench: go test -c ./bench: %v\n%s", err, out)
		}
	}
	groups, err := benchGroups(bin, o, backward, env.gomaxprocs)
	if err != nil {
		return "", err
	}
	if len(groups) == 0 {
		return "", &exitError{2, errors.New("bench: no benchmark selected")}
	}

	args := []string{"-test.run=^$", "-test.count=1", "-test.benchmem", "-embgrad.shapes=" + o.Shapes}
	if o.Benchtime != "" {
		args = append(args, "-test.benchtime="+o.Benchtime)
	}
	p := &benchProgress{w: stderr, start: time.Now(), rounds: o.Count, groups: groups}
	var raw []byte // every round's output, in order
	for round := 1; round <= o.Count; round++ {
		if round == 2 {
			// The binary checked every kernel's output against the
			// oracle in round 1; the inputs do not change.
			args = append(args, "-embgrad.check=false")
		}
		for _, g := range groups {
			if g.optional && g.known && g.perRun == 0 {
				continue // nothing of it is selected
			}
			out, n, err := runBenchBinary(bin, slices.Concat(args, []string{"-test.bench=" + g.pattern}), filepath.Join(env.root, "bench"), p)
			if err != nil {
				return "", fmt.Errorf("bench: round %d, %s: %v\n%s", round, g.name, err, lastLines(out, 30))
			}
			if n == 0 && !g.optional {
				return "", fmt.Errorf("bench: %s: no benchmark matches %q", g.name, g.pattern)
			}
			g.perRun, g.known = n, true
			raw = append(raw, out...)
		}
		p.round(round)
	}

	dir := o.Dir
	if dir == "" {
		dir = filepath.Join(env.root, "results")
	}
	path := filepath.Join(dir, o.Name+".txt")
	n, err := writeBenchResults(path, raw, env, o)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "wrote %s (%d results)\n", path, n)
	if o.Report {
		peers, _ := filepath.Glob(filepath.Join(dir, "peers*.txt"))
		files := []string{path}
		for _, p := range peers {
			if p != path {
				files = append(files, p)
			}
		}
		// Name the files as the user would, relative to the working
		// directory: the report records its command.
		if wd, err := os.Getwd(); err == nil {
			for i, f := range files {
				if rel, err := filepath.Rel(wd, f); err == nil && !strings.HasPrefix(rel, "..") {
					files[i] = rel
				}
			}
		}
		if _, err := runReport(stdout, stderr, reportOptions{Files: files, Dir: dir}); err != nil {
			return path, err
		}
	}
	return path, nil
}

// backwardCases returns the BenchmarkBackward cases the filters select,
// after checking every filter value names something.
func backwardCases(o benchOptions, shapes []bench.Shape, gomaxprocs int) ([]bench.Case, error) {
	var known []string
	for _, k := range registry.Kernels() {
		known = append(known, k.Name())
	}
	for _, k := range registry.Tied() {
		known = append(known, k.Name())
	}
	check := func(flag string, vals, valid []string) error {
		for _, v := range vals {
			if !slices.Contains(valid, v) {
				return fmt.Errorf("bench: -%s %s: unknown; want some of %s", flag, v, strings.Join(valid, ", "))
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
		return nil, err
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

// benchGroups lists the binary's top-level benchmarks and the pattern each
// runs with. A go test pattern is split at '/' into one expression per
// name level: impl= is level 1 in every benchmark; dist= and mode= are
// levels 5 and 6 of BenchmarkBackward.
func benchGroups(bin string, o benchOptions, backward []bench.Case, gomaxprocs int) ([]*benchGroup, error) {
	out, err := exec.Command(bin, "-test.list", "^Benchmark").Output()
	if err != nil {
		return nil, fmt.Errorf("bench: %s -test.list: %v", bin, err)
	}
	alt := func(key string, vals []string) string {
		if len(vals) == 0 {
			return "."
		}
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = regexp.QuoteMeta(v)
		}
		return "^" + key + "=(" + strings.Join(q, "|") + ")$"
	}
	var groups []*benchGroup
	for _, name := range strings.Fields(string(out)) {
		g := &benchGroup{name: name}
		top := "^" + name + "$"
		switch name {
		case "BenchmarkBackward":
			if len(backward) == 0 {
				continue
			}
			g.pattern = strings.Join([]string{top, alt("impl", o.Kernels), ".", ".", ".", alt("dist", o.Dists), alt("mode", o.Modes)}, "/")
			for strings.HasSuffix(g.pattern, "/.") {
				g.pattern = strings.TrimSuffix(g.pattern, "/.")
			}
			g.perRun, g.known = len(backward), true
		case "BenchmarkMemory":
			if !o.Memory {
				continue
			}
			g.pattern = top
			g.perRun, g.known = 3*len(bench.WorkerCounts(gomaxprocs)), true
		default:
			if !o.Others {
				continue
			}
			g.pattern, g.optional = strings.TrimSuffix(top+"/"+alt("impl", o.Kernels), "/."), true
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// runBenchBinary runs one benchmark process and returns its output and the
// number of results in it, reporting each result to p as it arrives.
func runBenchBinary(bin string, args []string, dir string, p *benchProgress) ([]byte, int, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	var out bytes.Buffer
	n := 0
	sc := bufio.NewScanner(pipe)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		out.Write(line)
		out.WriteByte('\n')
		if isResultLine(line) {
			n++
			p.result()
		}
	}
	err = cmd.Wait()
	out.Write(errb.Bytes())
	if err == nil {
		err = sc.Err()
	}
	return out.Bytes(), n, err
}

// isResultLine reports whether a line of go test output is a benchmark
// result: "BenchmarkName-P <iters> <value> <unit>...".
func isResultLine(line []byte) bool {
	f := bytes.Fields(line)
	return len(f) >= 4 && bytes.HasPrefix(f[0], []byte("Benchmark")) && bytes.Equal(f[3], []byte("ns/op"))
}

// benchProgress prints progress with an ETA: a line per round, and between
// rounds at most one line every 15 seconds.
type benchProgress struct {
	w          io.Writer
	start      time.Time
	rounds     int
	groups     []*benchGroup
	done       int
	lastPrint  time.Time
	roundsDone int
}

func (p *benchProgress) total() (n int, exact bool) {
	exact = true
	for _, g := range p.groups {
		n += g.perRun
		exact = exact && g.known
	}
	return n * p.rounds, exact
}

func (p *benchProgress) result() {
	p.done++
	if time.Since(p.lastPrint) >= 15*time.Second {
		p.print()
	}
}

func (p *benchProgress) round(r int) {
	p.roundsDone = r
	p.print()
}

func (p *benchProgress) print() {
	p.lastPrint = time.Now()
	el := time.Since(p.start)
	total, exact := p.total()
	eta := "unknown"
	if p.done > 0 && total >= p.done {
		eta = (time.Duration(float64(el) / float64(p.done) * float64(total-p.done))).Round(time.Second).String()
		if !exact {
			eta = "≥ " + eta
		}
	}
	fmt.Fprintf(p.w, "bench: round %d/%d, %d/%d results, %v elapsed, ETA %s\n",
		min(p.roundsDone+1, p.rounds), p.rounds, p.done, total, el.Round(time.Second), eta)
}

// writeBenchResults writes the results file: the run's config lines, the
// result lines of the raw go test output as go test printed them (each one
// parsed by benchfmt first), and better=higher for every rate unit (B/s,
// tokens/s, GFLOP/s, ...); then it reads the file back with benchfmt to
// check it.
func writeBenchResults(path string, raw []byte, env *benchEnv, o benchOptions) (int, error) {
	var head, body bytes.Buffer
	for _, kv := range [][2]string{
		{"commit", env.commit},
		{"go", env.goVersion},
		{"gomaxprocs", fmt.Sprint(env.gomaxprocs)},
		{"date", env.date.Format(time.RFC3339)},
		{"loadavg", env.loadavg},
		{"benchtime", cmp.Or(o.Benchtime, "1s")},
		{"shapes", o.Shapes},
		{"command", o.commandLine()},
	} {
		if kv[1] != "" {
			fmt.Fprintf(&head, "%s: %s\n", kv[0], kv[1])
		}
	}
	lines := bytes.Split(raw, []byte("\n"))
	var rateUnits []string // tidied units ending in /s: higher is better
	r := benchfmt.NewReader(bytes.NewReader(raw), "go test output")
	n := 0
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			return 0, fmt.Errorf("bench: %v", rec)
		case *benchfmt.Result:
			for _, v := range rec.Values {
				if strings.HasSuffix(v.Unit, "/s") && !slices.Contains(rateUnits, v.Unit) {
					rateUnits = append(rateUnits, v.Unit)
				}
			}
			if n == 0 { // go test's own config: goos, goarch, pkg, cpu
				for _, c := range rec.Config {
					fmt.Fprintf(&head, "%s: %s\n", c.Key, bytes.TrimSpace(c.Value))
				}
			}
			_, line := rec.Pos()
			body.Write(lines[line-1])
			body.WriteByte('\n')
			n++
		}
	}
	if err := r.Err(); err != nil {
		return 0, err
	}
	head.WriteByte('\n')
	head.Write(body.Bytes())
	head.WriteString("\n")
	for _, u := range rateUnits {
		fmt.Fprintf(&head, "Unit %s better=higher\n", u)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, head.Bytes(), 0o644); err != nil {
		return 0, err
	}
	if got, err := countBenchResults(tmp); err != nil || got != n {
		os.Remove(tmp)
		return 0, fmt.Errorf("bench: reading back %s: %d of %d results: %v", tmp, got, n, err)
	}
	return n, os.Rename(tmp, path)
}

// countBenchResults reads a benchfmt file and counts its results; a syntax
// error is an error naming file and line.
func countBenchResults(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := benchfmt.NewReader(f, path)
	n := 0
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			return n, rec
		case *benchfmt.Result:
			n++
		}
	}
	return n, r.Err()
}

// lastLines returns the last n lines of out.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

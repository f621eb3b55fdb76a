package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/cmd/embgrad/internal/benchrun"
)

func init() {
	commands["bench"] = command{
		summary: "run the benchmark matrix and write results/<name>.txt",
		run:     benchCmd,
	}
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
	var o benchrun.Options
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
func parseBenchFlags(o *benchrun.Options, args []string, stderr io.Writer) error {
	*o = benchrun.Default()
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
	fs.BoolVar(&o.Peak, "peak", o.Peak, "run the compute-peak probe BenchmarkPeak (the tied kernels' roofline), whatever -kernels selects")
	fs.IntVar(&o.Hog, "hog", o.Hog, "run beside `N` CPU hogs (busy loops, one CPU each) to measure under load; writes results/NAME-hogN.txt unless -name is given")
	fs.BoolVar(&o.Report, "report", o.Report, "then run \"embgrad report\" on the results and the peers*.txt beside them (with -hog, and the quiet NAME.txt if there is one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	named := false
	fs.Visit(func(f *flag.Flag) { named = named || f.Name == "name" })
	if o.Hog > 0 && !named {
		o.Name = fmt.Sprintf("%s-hog%d", o.Name, o.Hog)
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

// runBench runs the matrix and, with o.Report, the report on its results
// and the peers' files beside them. It returns the results file's path.
func runBench(stdout, stderr io.Writer, o benchrun.Options) (string, error) {
	path, err := benchrun.Matrix(stdout, stderr, o)
	if err != nil {
		var ie *benchrun.InputError
		if errors.As(err, &ie) {
			return "", &exitError{2, fmt.Errorf("bench: %w", err)}
		}
		return "", fmt.Errorf("bench: %w", err)
	}
	if !o.Report {
		return path, nil
	}
	peers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "peers*.txt"))
	files := []string{path}
	if suffix := fmt.Sprintf("-hog%d", o.Hog); o.Hog > 0 && strings.HasSuffix(o.Name, suffix) {
		// The quiet run beside the loaded one, for the section under load.
		quiet := filepath.Join(filepath.Dir(path), strings.TrimSuffix(o.Name, suffix)+".txt")
		if _, err := os.Stat(quiet); err == nil {
			files = []string{quiet, path}
		}
	}
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
	if _, err := runReport(stdout, files, filepath.Dir(path)); err != nil {
		return path, err
	}
	return path, nil
}

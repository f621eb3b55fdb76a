package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/embgrad/embgrad/cmd/embgrad/internal/benchrun"
)

// fakeBenchBinary writes a shell script standing in for the bench test
// binary: it logs its arguments and prints testdata/bench/<group>.out for
// the benchmark its -test.bench pattern names (backwardOut for
// BenchmarkBackward), exiting 1 after failed.out as go test does.
func fakeBenchBinary(t *testing.T, backwardOut string) (bin, log string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	data, err := filepath.Abs(filepath.Join("testdata", "bench"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin, log = filepath.Join(dir, "bench.test"), filepath.Join(dir, "args.log")
	script := `#!/bin/sh
echo "$@" >> '` + log + `'
rc=0
case "$*" in
*-embgrad.hog=1*) echo 'hog: 1' ;;
esac
case "$*" in
*-test.list*) printf 'BenchmarkBackward\nBenchmarkMemory\nBenchmarkTied\nBenchmarkPeak\nBenchmarkNotInTheMatrix\n' ;;
*BenchmarkBackward*) cat '` + filepath.Join(data, backwardOut) + `'; [ '` + backwardOut + `' != failed.out ] || rc=1 ;;
*BenchmarkMemory*) cat '` + filepath.Join(data, "memory.out") + `' ;;
*BenchmarkTied*) cat '` + filepath.Join(data, "tied.out") + `' ;;
*BenchmarkPeak*) cat '` + filepath.Join(data, "peak.out") + `' ;;
*) echo PASS ;;
esac
case "$*" in
*BenchmarkBackward*-embgrad.hog=1*|*-embgrad.hog=1*BenchmarkBackward*) echo 'hog-cpu: 0.97' ;;
*-embgrad.hog=1*) echo 'hog-cpu: 0.99' ;;
esac
exit $rc
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, log
}

func fakeBenchOptions(t *testing.T, bin string) benchrun.Options {
	o := benchrun.Default()
	o.Name, o.Dir, o.Count, o.Shapes = "fake", t.TempDir(), 2, "gpt2"
	o.Kernels, o.Dists = []string{"scatter", "tied"}, []string{"same"}
	o.Binary = bin
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "bench"), 0o755); err != nil {
		t.Fatal(err)
	}
	o.Env = &benchrun.Env{
		Root:       root,
		Commit:     "0123456789abcdef0123456789abcdef01234567",
		GoVersion:  "go1.26.8",
		Gomaxprocs: 2,
		Date:       time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Loadavg:    "0.50 0.40 0.30",
	}
	return o
}

// TestBenchGolden runs the bench pipeline on a fake binary: the patterns it
// passes (the go test invocations are golden), the rounds, and the results
// file with its config and unit lines (golden).
func TestBenchGolden(t *testing.T) {
	bin, log := fakeBenchBinary(t, "backward.out")
	o := fakeBenchOptions(t, bin)
	var stdout, stderr bytes.Buffer
	path, err := runBench(&stdout, &stderr, o)
	if err != nil {
		t.Fatalf("runBench: %v\nstderr:\n%s", err, &stderr)
	}
	if want := filepath.Join(o.Dir, "fake.txt"); path != want || !strings.Contains(stdout.String(), want) {
		t.Errorf("path %q, stdout %q; want %q", path, &stdout, want)
	}
	if !strings.Contains(stderr.String(), "round 2/2, 22/22 results") || !strings.Contains(stderr.String(), "ETA") {
		t.Errorf("progress lacks the final round or an ETA:\n%s", &stderr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got = bytes.ReplaceAll(got, []byte(o.Dir), []byte("$DIR"))
	matchGolden(t, filepath.Join("testdata", "bench", "fake.golden"), got)
	args, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	matchGolden(t, filepath.Join("testdata", "bench", "args.golden"), args)
}

func TestBenchErrors(t *testing.T) {
	for _, tc := range []struct {
		name, backward string
		edit           func(*benchrun.Options)
		code           int    // exitError code; 0 means any error
		want           string // in the message
	}{
		{"malformed", "malformed.out", nil, 0, "go test output:2"},
		{"failed", "failed.out", nil, 0, "not timing scatter"},
		{"unknown-kernel", "backward.out", func(o *benchrun.Options) { o.Kernels = []string{"fastest"} }, 2, "-kernels fastest"},
		{"unknown-dist", "backward.out", func(o *benchrun.Options) { o.Dists = []string{"gauss"} }, 2, "-dists gauss"},
		{"unknown-shape", "backward.out", func(o *benchrun.Options) { o.Shapes = "gpt5" }, 2, `"gpt5"`},
		{"zero-count", "backward.out", func(o *benchrun.Options) { o.Count = 0 }, 2, "-count"},
		{"bad-benchtime", "backward.out", func(o *benchrun.Options) { o.Benchtime = "abc" }, 2, "-benchtime abc: want a duration such as 100ms or a count such as 100x"},
		{"zero-benchtime", "backward.out", func(o *benchrun.Options) { o.Benchtime = "0x" }, 2, "-benchtime 0x"},
		{"duplicate-shape", "backward.out", func(o *benchrun.Options) { o.Shapes = "gpt2,gpt2" }, 2, `shape "gpt2" given twice`},
		{"duplicate-kernel", "backward.out", func(o *benchrun.Options) { o.Kernels = []string{"scatter", "scatter"} }, 2, "-kernels: scatter given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin, _ := fakeBenchBinary(t, tc.backward)
			o := fakeBenchOptions(t, bin)
			if tc.edit != nil {
				tc.edit(&o)
			}
			var stdout, stderr bytes.Buffer
			_, err := runBench(&stdout, &stderr, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			var ee *exitError
			if tc.code != 0 && (!errors.As(err, &ee) || ee.code != tc.code) {
				t.Errorf("err = %#v, want exit status %d", err, tc.code)
			}
			if _, err := os.Stat(filepath.Join(o.Dir, "fake.txt")); err == nil {
				t.Error("a results file was written after an error")
			}
		})
	}
}

func TestBenchCommandLine(t *testing.T) {
	o := benchrun.Default()
	want := "go run ./cmd/embgrad bench -name latest -count 10 -benchtime 100ms -shapes default"
	if got := o.CommandLine(); got != want {
		t.Errorf("default command line %q, want %q", got, want)
	}
	// The recorded command parses back to the same options.
	o.Name, o.Count, o.Shapes, o.Kernels, o.Modes, o.Others = "x", 3, "gpt2,llama3", []string{"simd", "sharded"}, []string{"scratch"}, false
	o.Peak, o.Hog = false, 2
	for _, o := range []benchrun.Options{o, benchrun.Quick()} {
		var parsed benchrun.Options
		args := strings.Fields(strings.TrimPrefix(o.CommandLine(), "go run ./cmd/embgrad bench "))
		if err := parseBenchFlags(&parsed, args, new(bytes.Buffer)); err != nil {
			t.Fatal(err)
		}
		if parsed.CommandLine() != o.CommandLine() {
			t.Errorf("round trip: %q became %q", o.CommandLine(), parsed.CommandLine())
		}
	}
}

// TestBenchReport: with -report, the results and the peers' files beside
// them go on into REPORT.md.
func TestBenchReport(t *testing.T) {
	bin, _ := fakeBenchBinary(t, "backward.out")
	o := fakeBenchOptions(t, bin)
	o.Report = true
	peers, err := os.ReadFile(filepath.Join("testdata", "report", "peers.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "peers.txt"), peers, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := runBench(&stdout, &stderr, o); err != nil {
		t.Fatalf("runBench: %v\n%s", err, &stderr)
	}
	md, err := os.ReadFile(filepath.Join(o.Dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{o.CommandLine(), "peers.txt", "| scatter | torch-dense |", "## BenchmarkTied"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("REPORT.md lacks %q:\n%s", want, md)
		}
	}
}

// An output directory that cannot be written is found before the run, not
// after it, when the results would be lost.
func TestBenchUnwritableDir(t *testing.T) {
	bin, log := fakeBenchBinary(t, "backward.out")
	o := fakeBenchOptions(t, bin)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o.Dir = filepath.Join(file, "results")
	var stdout, stderr bytes.Buffer
	_, err := runBench(&stdout, &stderr, o)
	var ee *exitError
	if err == nil || !strings.Contains(err.Error(), "output directory") || !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("err = %v, want exit status 2 naming the output directory", err)
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("the benchmark binary ran before the output directory was checked")
	}
}

// The documented "embgrad bench -kernels tied -report" has no
// BenchmarkBackward results; its report shows what there is.
func TestBenchReportTiedOnly(t *testing.T) {
	bin, _ := fakeBenchBinary(t, "backward.out")
	o := fakeBenchOptions(t, bin)
	o.Kernels, o.Dists, o.Report = []string{"tied"}, nil, true
	var stdout, stderr bytes.Buffer
	if _, err := runBench(&stdout, &stderr, o); err != nil {
		t.Fatalf("runBench: %v\n%s", err, &stderr)
	}
	md, err := os.ReadFile(filepath.Join(o.Dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("## BenchmarkTied")) || bytes.Contains(md, []byte("## gpt2")) {
		t.Errorf("REPORT.md of a tied-only run:\n%s", md)
	}
}

// TestBenchHog: -hog 1 passes -embgrad.hog=1 to every run, names the file
// NAME-hog1, records the hog count once and the hogs' measured CPUs as
// config lines, and with -report reports it beside the quiet NAME.txt, in
// the section under load.
func TestBenchHog(t *testing.T) {
	bin, log := fakeBenchBinary(t, "backward.out")
	var parsed benchrun.Options
	if err := parseBenchFlags(&parsed, []string{"-hog", "1"}, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	if parsed.Name != "latest-hog1" || parsed.Hog != 1 {
		t.Errorf("-hog 1 parsed as name %q, hog %d", parsed.Name, parsed.Hog)
	}
	if err := parseBenchFlags(&parsed, []string{"-hog", "1", "-name", "x"}, new(bytes.Buffer)); err != nil || parsed.Name != "x" {
		t.Errorf("-hog 1 -name x parsed as name %q (%v)", parsed.Name, err)
	}
	o := fakeBenchOptions(t, bin)
	var stdout, stderr bytes.Buffer
	quiet, err := runBench(&stdout, &stderr, o) // fake.txt, quiet
	if err != nil {
		t.Fatalf("quiet run: %v\n%s", err, &stderr)
	}
	o.Name, o.Hog, o.Report = "fake-hog1", 1, true
	path, err := runBench(&stdout, &stderr, o)
	if err != nil {
		t.Fatalf("loaded run: %v\n%s", err, &stderr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\nhog: 1\n"); n != 1 {
		t.Errorf("%d hog: 1 lines in\n%s", n, got)
	}
	// Two rounds of four groups, and round 1's run of the group that
	// selects nothing; the Backward runs' hogs used 0.97.
	if !strings.Contains(string(got), "hog-cpu: 0.97–0.99 over 9 runs\n") || !strings.Contains(string(got), "-hog 1") {
		t.Errorf("no hog-cpu range or command in\n%s", got)
	}
	args, _ := os.ReadFile(log)
	if n, m := strings.Count(string(args), "-embgrad.hog=1"), strings.Count(string(args), "-test.bench="); n == 0 || 2*n != m {
		t.Errorf("%d of %d runs beside hogs, want half (the loaded invocation's):\n%s", n, m, args)
	}
	md, err := os.ReadFile(filepath.Join(o.Dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Under load: beside 1 CPU hog", quiet, path, "hog-cpu: 0.97–0.99 over 9 runs"} {
		if !bytes.Contains(md, []byte(filepath.Base(want))) {
			t.Errorf("REPORT.md lacks %q:\n%s", want, md)
		}
	}
	o.Hog = -1
	if _, err := runBench(&stdout, &stderr, o); err == nil || !strings.Contains(err.Error(), "-hog -1") {
		t.Errorf("-hog -1: err %v", err)
	}
}

// Package benchrun runs embgrad's benchmark binaries and writes their
// results: it builds a package's test binary, runs it in rounds (every
// selected benchmark once per round, for embgrad bench) or two binaries
// interleaved in ABBA order (for the gate), shows progress on stderr, and
// writes a result file with the run's config and unit lines, read back
// with bench/benchfile before it replaces anything.
package benchrun

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// InputError is a problem with what the user asked for (a flag value, an
// output directory), found before anything ran; commands exit 2 on it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{fmt.Errorf(format, args...)}
}

// Build compiles the test binary of the package in pkgDir to out.
func Build(ctx context.Context, pkgDir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", out, ".")
	cmd.Dir = pkgDir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c in %s: %v\n%s", pkgDir, err, Tail(b, 40))
	}
	return nil
}

// List returns the binary's top-level benchmarks.
func List(ctx context.Context, bin string) ([]string, error) {
	out, err := exec.CommandContext(ctx, bin, "-test.list", "^Benchmark").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -test.list: %v", bin, err)
	}
	return strings.Fields(string(out)), nil
}

// Binary is one benchmark binary and the directory it runs in (its
// package's, where its testdata is).
type Binary struct {
	Path, Dir string
}

// Run runs the binary once and returns its standard output and the number
// of benchmark results in it, calling onResult (if not nil) as each
// arrives. On failure the error holds the end of its output and the start
// of its standard error, where go test puts the cause (before its usage).
func (b Binary) Run(ctx context.Context, args []string, onResult func()) ([]byte, int, error) {
	cmd := exec.CommandContext(ctx, b.Path, args...)
	cmd.Dir = b.Dir
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
			if onResult != nil {
				onResult()
			}
		}
	}
	err = cmd.Wait()
	if err == nil {
		err = sc.Err()
	}
	if err != nil {
		return out.Bytes(), n, fmt.Errorf("%v\n%s%s", err, Tail(out.Bytes(), 30), Head(errb.Bytes(), 10))
	}
	return out.Bytes(), n, nil
}

// isResultLine reports whether a line of go test output is a benchmark
// result: "BenchmarkName-P <iters> <value> ns/op ...".
func isResultLine(line []byte) bool {
	f := bytes.Fields(line)
	return len(f) >= 4 && bytes.HasPrefix(f[0], []byte("Benchmark")) && bytes.Equal(f[3], []byte("ns/op"))
}

var benchtimeCount = regexp.MustCompile(`^[0-9]+x$`)

// CheckBenchtime checks a -benchtime value as go test would read it (a
// duration, or a count such as 100x), so that a typo is reported as such
// instead of as the binary's exit status.
func CheckBenchtime(s string) error {
	if s == "" {
		return nil
	}
	if benchtimeCount.MatchString(s) {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "x")); err == nil && n > 0 {
			return nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return nil
	}
	return inputErrorf("-benchtime %s: want a duration such as 100ms or a count such as 100x", s)
}

// Tail returns the last n lines of b, with a final newline if any.
func Tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return join(lines)
}

// Head returns the first n lines of b, with a final newline if any.
func Head(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return join(lines)
}

func join(lines []string) string {
	s := strings.Join(lines, "\n")
	if s != "" {
		s += "\n"
	}
	return s
}

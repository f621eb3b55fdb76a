package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// gateCase is one golden test: args after "gate", the expected exit status,
// and the golden file stem under testdata/gate (.stdout holds the markdown
// summary, .stderr what main prints: stderr output and "embgrad: <error>").
type gateCase struct {
	name string
	args []string
	code int
}

func gateCases() []gateCase {
	td := func(f string) string { return filepath.Join("testdata", "gate", f) }
	old := td("old.txt")
	return []gateCase{
		{"regression", []string{old, td("new-regression.txt")}, 1},
		{"improvement", []string{old, td("new-improvement.txt")}, 0},
		{"noise", []string{old, td("new-noise.txt")}, 0},
		{"within-threshold", []string{old, td("new-small.txt")}, 0},
		{"threshold-override", []string{"-threshold", "impl=scatter/.*/dist=zipf=20", old, td("new-regression.txt")}, 0},
		{"threshold-default-flag", []string{old, td("new-regression.txt"), "-threshold", "16"}, 0},
		{"allocs-exact", []string{old, td("new-allocs.txt")}, 1},
		{"bop-varies", []string{td("old-vary.txt"), td("new-vary.txt")}, 0},
		{"higher-is-better", []string{old, td("new-tokens.txt")}, 1},
		{"holm-many-noise", []string{td("old-many.txt"), td("new-many.txt")}, 0},
		{"too-few-samples", []string{td("old-few.txt"), td("new-few.txt")}, 2},
		{"malformed", []string{old, td("new-malformed.txt")}, 2},
		{"failed-run", []string{old, td("new-failed.txt")}, 2},
		{"bad-unit-metadata", []string{old, td("new-badunit.txt")}, 2},
		{"mismatch", []string{old, td("new-mismatch.txt")}, 2},
		{"added-allowed", []string{"-allow-new", old, td("new-added.txt")}, 0},
		{"added-strict", []string{old, td("new-added.txt")}, 2},
		{"empty", []string{old, td("empty.txt")}, 2},
		{"empty-old", []string{td("empty.txt"), old}, 2},
		{"missing", []string{old, td("no-such-file.txt")}, 2},
		{"one-arg", []string{old}, 2},
		{"bad-threshold", []string{"-threshold", "x=y", old, old}, 2},
		// Hostile input: each once passed (exit 0), except md-unwritable,
		// which turned the regression into exit 2.
		{"negative", []string{old, td("new-negative.txt")}, 2},
		{"all-zero", []string{old, td("new-zero.txt")}, 2},
		{"direction-flip", []string{old, td("new-direction.txt")}, 2},
		{"cut-after-value", []string{old, td("new-cut.txt")}, 2},
		{"binary-junk", []string{old, td("new-junk.txt")}, 2},
		{"iterations-zero", []string{old, td("new-iters0.txt")}, 2},
		{"alpha-nan", []string{"-alpha", "NaN", td("old-few.txt"), td("new-few.txt")}, 2},
		{"alpha-inf", []string{"-alpha", "+Inf", old, td("new-regression.txt")}, 2},
		{"md-unwritable", []string{"-md", td("no-such-dir/gate.md"), old, td("new-regression.txt")}, 1},
	}
}

// runGateCmd runs "embgrad gate args..." as main would and returns stdout,
// what main would print on stderr, and the exit status.
func runGateCmd(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	err := run(&out, &errb, append([]string{"gate"}, args...))
	if err != nil {
		fmt.Fprintln(&errb, "embgrad:", err)
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), errb.String(), code
}

func TestGateGolden(t *testing.T) {
	for _, c := range gateCases() {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runGateCmd(c.args...)
			if code != c.code {
				t.Errorf("exit status %d, want %d\nstderr:\n%s", code, c.code, stderr)
			}
			matchGolden(t, filepath.Join("testdata", "gate", c.name+".stdout"), []byte(stdout))
			matchGolden(t, filepath.Join("testdata", "gate", c.name+".stderr"), []byte(stderr))
		})
	}
}

// The error messages must name the file and the line.
func TestGateErrorsNameFileAndLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-malformed.txt"},
			[]string{"testdata/gate/new-malformed.txt:11:", "testdata/gate/new-malformed.txt:45: truncated"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-badunit.txt"}, []string{"testdata/gate/new-badunit.txt:5:"}},
		{[]string{"testdata/gate/new-failed.txt", "testdata/gate/old.txt"}, []string{"testdata/gate/new-failed.txt:46:"}},
		{[]string{"testdata/gate/empty.txt", "testdata/gate/old.txt"}, []string{"testdata/gate/empty.txt: empty file"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-negative.txt"}, []string{"testdata/gate/new-negative.txt:19: ", "ns/op is negative"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-zero.txt"}, []string{"testdata/gate/new-zero.txt:6: ", "0 ns/op: no operation takes no time"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-direction.txt"}, []string{"testdata/gate/new-direction.txt:6: unit ns/op: better=higher"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-cut.txt"}, []string{"testdata/gate/new-cut.txt:45: truncated"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-junk.txt"}, []string{"testdata/gate/new-junk.txt:48: binary data"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-iters0.txt"}, []string{"testdata/gate/new-iters0.txt:8: ", "0 iterations"}},
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-mismatch.txt"},
			[]string{"only in OLD (1):\n\tBenchmarkBackward/impl=loop/V=50257/D=768/N=8192/dist=uniform/mode=accumulate-2",
				"only in NEW (1):\n\tBenchmarkBackward/impl=sorted/V=50257/D=768/N=8192/dist=zipf/mode=accumulate-2"}},
	} {
		_, stderr, code := runGateCmd(c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, stderr)
			}
		}
	}
}

// -md writes the same summary as stdout, also on error.
func TestGateMarkdownFile(t *testing.T) {
	for _, c := range []struct {
		files []string
		code  int
		head  string
	}{
		{[]string{"testdata/gate/old.txt", "testdata/gate/new-regression.txt"}, 1, "## Benchmark gate: ❌ REGRESSION"},
		{[]string{"testdata/gate/old.txt", "testdata/gate/empty.txt"}, 2, "## Benchmark gate: ⚠️ ERROR"},
	} {
		md := filepath.Join(t.TempDir(), "gate.md")
		stdout, _, code := runGateCmd(append([]string{"-md", md}, c.files...)...)
		if code != c.code {
			t.Errorf("exit %d, want %d", code, c.code)
		}
		b, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != stdout || !strings.HasPrefix(stdout, c.head) {
			t.Errorf("-md file differs from stdout or lacks %q:\n%s", c.head, b)
		}
	}
}

func TestGateBenchPattern(t *testing.T) {
	names := []string{
		"BenchmarkBackward/impl=scatter/V=50257/D=768/N=8192/dist=zipf/mode=accumulate-2",
		"BenchmarkMemory/op=read/size=268435456",
	}
	got := gateBenchPattern(names)
	want := `^BenchmarkBackward$/^impl=scatter$/^V=50257$/^D=768$/^N=8192$/^dist=zipf$/^mode=accumulate$|^BenchmarkMemory$/^op=read$/^size=268435456$`
	if got != want {
		t.Errorf("gateBenchPattern = %q, want %q", got, want)
	}
	for _, p := range strings.Split(got, "|") {
		for _, level := range strings.Split(p, "/") {
			if _, err := regexp.Compile(level); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestGateBase runs the -base form end to end on a throwaway git repository
// with a tiny bench package: a baseline commit and a working tree whose
// benchmark does 3x the work must fail (exit 1) after the suspect re-run,
// keep the four result files and remove the worktree. (The A/A run on real
// code is documented in results/GATE.md; the statistics of noise-only input
// are covered by the golden tests.)
func TestGateBase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs benchmark binaries")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(path, s string) {
		t.Helper()
		p := filepath.Join(repo, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The benchmark spins for a fixed amount of work; "slow" is 3x the work.
	src := func(work int) string {
		return fmt.Sprintf(`package bench

import "testing"

var sink int

func spin(n int) int {
	x := 0
	for i := 0; i < n; i++ {
		x = x*31 + i
	}
	return x
}

func BenchmarkSpin(b *testing.B) {
	b.Run("kind=a", func(b *testing.B) {
		for b.Loop() {
			sink = spin(%d)
		}
	})
}
`, work)
	}
	write("go.mod", "module example.com/gatetest\n\ngo 1.24\n")
	write("bench/bench_test.go", src(20000))
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	t.Chdir(repo)

	write("bench/bench_test.go", src(60000))
	out := filepath.Join(t.TempDir(), "slow")
	stdout, stderr, code := runGateCmd("-base", "HEAD", "-benchtime", "2000x", "-out", out, "-md", filepath.Join(out, "gate.md"))
	if code != 1 {
		t.Fatalf("slowdown: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Re-run of the suspects") || !strings.Contains(stdout, "regression") {
		t.Errorf("summary lacks the re-run section or the regression:\n%s", stdout)
	}
	for _, f := range []string{"old.txt", "new.txt", "old-rerun.txt", "new-rerun.txt"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "BenchmarkSpin/kind=a"); n != 10 {
			t.Errorf("%s has %d results, want 10 (interleaved -count 10)", f, n)
		}
	}

	// No worktree left behind.
	cmd := exec.Command("git", "worktree", "list")
	cmd.Dir = repo
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.TrimSpace(string(b)), "\n"); n != 0 {
		t.Errorf("worktrees left behind:\n%s", b)
	}

	// A revision without ./bench is an error (exit 2).
	_, stderr, code = runGateCmd("-base", "no-such-rev")
	if code != 2 || !strings.Contains(stderr, "not a commit") {
		t.Errorf("bad -base: exit %d, want 2 and 'not a commit':\n%s", code, stderr)
	}
}

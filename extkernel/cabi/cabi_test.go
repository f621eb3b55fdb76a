package cabi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/embgrad/embgrad/extkernel/cabi"
	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// build compiles examples/c/loop.c with the given defines into a shared
// library, or skips t when there is no C compiler.
func build(t *testing.T, defines ...string) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		for _, c := range []string{"gcc", "cc", "clang"} {
			if _, err := exec.LookPath(c); err == nil {
				cc = c
				break
			}
		}
	}
	if cc == "" {
		t.Skip("no C compiler (gcc, cc or clang; or set CC): the C ABI example is not built")
	}
	out := filepath.Join(t.TempDir(), "libk.so")
	args := append([]string{"-O2", "-shared", "-fPIC", "-ffp-contract=off", "-Wall", "-Werror", "-I../../include", "-o", out}, defines...)
	cmd := exec.Command(cc, append(args, "../../examples/c/loop.c")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	return out
}

func open(t *testing.T, defines ...string) *cabi.Lib {
	l, err := cabi.Open(build(t, defines...))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func failing(rs []suite.Result) []string {
	var f []string
	for _, r := range rs {
		if r.NotApplicable != "" {
			f = append(f, r.Check+"(n/a)")
		} else if r.Err != nil {
			f = append(f, r.Check)
		}
	}
	return f
}

// The C example passes both suites, dense and tied, with every check
// applicable: it works on the suites' own guarded memory.
func TestCExample(t *testing.T) {
	l := open(t)
	if l.Name() != "c-loop" || l.Kernel() == nil || l.Tied() == nil {
		t.Fatalf("lib %q: dense %v tied %v", l.Name(), l.Kernel(), l.Tied())
	}
	// Full sizes with EMBGRAD_EXTKERNEL_ALL=1 (.ci/run), short ones by
	// default to keep go test fast.
	cfg := suite.Config{Short: testing.Short() || os.Getenv("EMBGRAD_EXTKERNEL_ALL") != "1"}
	for name, rs := range map[string][]suite.Result{
		"gradcheck":      gradcheck.Run(l.Kernel(), cfg),
		"property":       property.Run(l.Kernel(), cfg),
		"tied gradcheck": gradcheck.RunTied(l.Tied(), cfg),
		"tied property":  property.RunTied(l.Tied(), cfg),
	} {
		if f := failing(rs); len(f) > 0 {
			t.Errorf("%s: failing or n/a: %v\n%v", name, f, suite.Join(rs))
		}
	}
}

// The deliberately broken builds are caught, guard bands and read-only
// inputs included: those apply through the C ABI.
func TestBrokenCKernels(t *testing.T) {
	for _, c := range []struct {
		define, name string
		caught       []string
	}{
		{"-DBROKEN_STRAY", "c-writes-past-dst", []string{"guard-bands", "oracle"}},
		{"-DBROKEN_MUTATE", "c-mutates-gradout", []string{"read-only-inputs"}},
		{"-DBROKEN_PADDING", "c-ignores-padding", []string{"untouched-rows", "oracle"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := open(t, c.define)
			if l.Name() != c.name {
				t.Fatalf("name %q", l.Name())
			}
			f := failing(property.Run(l.Kernel(), suite.Config{Short: true}))
			for _, want := range c.caught {
				if !slices.Contains(f, want) {
					t.Errorf("%s not caught by %s; failing: %v", c.name, want, f)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := cabi.Open(filepath.Join(t.TempDir(), "none.so")); err == nil {
		t.Error("opened a missing library")
	}
}

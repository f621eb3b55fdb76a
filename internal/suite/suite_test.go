package suite

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
)

// -embgrad.seed exists in test binaries and in no other program that
// imports a suite.
func TestSeedFlagOnlyInTests(t *testing.T) {
	if flag.Lookup("embgrad.seed") == nil {
		t.Fatal("-embgrad.seed is not registered in a test binary")
	}
	if testing.Short() {
		t.Skip("builds a program")
	}
	out, err := exec.Command("go", "run", "./testdata/noflag").CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "embgrad.seed registered: false" {
		t.Errorf("a program importing the suites: %s", got)
	}
}

// Seed 0 is expressible by the flag, the environment and Config alike.
func TestSeedZero(t *testing.T) {
	t.Setenv("EMBGRAD_SEED", "0")
	c, err := Config{}.Resolve()
	if err != nil || c.Seed != 0 || c.from != fromEnv {
		t.Errorf("EMBGRAD_SEED=0: %+v, %v", c, err)
	}
	t.Setenv("EMBGRAD_SEED", "5")
	if c, _ := (Config{}).WithSeed(0).Resolve(); c.Seed != 0 {
		t.Errorf("WithSeed(0) resolved to seed %d", c.Seed)
	}
	if c, _ := (Config{}).Resolve(); c.Seed != 5 {
		t.Errorf("Config{} with EMBGRAD_SEED=5 resolved to seed %d", c.Seed)
	}
	was := seedFlag
	defer func() { seedFlag = was }()
	if err := flag.Set("embgrad.seed", "0"); err != nil {
		t.Fatal(err)
	}
	if c, _ := (Config{}).Resolve(); c.Seed != 0 || c.from != fromFlag {
		t.Errorf("-embgrad.seed=0 with EMBGRAD_SEED=5: %+v", c)
	}
}

// Every kind of violation is reported, with its buffer and index, and an
// error the kernel returns comes through when there is none.
func TestCallViolations(t *testing.T) {
	for _, tc := range []struct {
		kind, msg string
		f         func(dst, g []float32, ids []int32) error
	}{
		{StrayWrite, "wrote 1 outside dst, at dst[3] (len(dst) = 3)", func(dst, _ []float32, _ []int32) error {
			dst[:4][3] = 1
			return nil
		}},
		{StrayWrite, "at dst[-1]", func(dst, _ []float32, _ []int32) error {
			*(*float32)(unsafeAdd(&dst[0], -4)) = 1
			return errors.New("an error does not hide it")
		}},
		{StrayWrite, "at dst[4]", func(dst, _ []float32, _ []int32) error { dst[:5][4] += 0; return nil }},
		{ChangedInput, "modified gradOut: gradOut[1] (len 2) was 2, now 0", func(_, g []float32, _ []int32) error { g[1] = 0; return nil }},
		{ChangedInput, "modified gradOut: gradOut[2] (len 2)", func(_, g []float32, _ []int32) error { g[:3][2] = 0; return nil }},
		{ChangedInput, "modified ids: ids[0] (len 1) was 1, now 0", func(_, _ []float32, ids []int32) error { ids[0] = 0; return nil }},
		{Panicked, "kernel panicked: oops", func(_, _ []float32, _ []int32) error { panic("oops") }},
	} {
		dst, g, ids := Out("dst", []float32{0, 0, 0}), In("gradOut", []float32{1, 2}), InIDs("ids", []int32{1})
		err := Call(func() error { return tc.f(dst.F32(), g.F32(), ids.I32()) }, dst, g, ids)
		if !IsViolation(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("want a %s violation with %q, got %v", tc.kind, tc.msg, err)
		}
	}
	dst := Out("dst", []float32{1})
	want := errors.New("rejected")
	if err := Call(func() error { dst.F32()[0] = 2; return want }, dst); err != want {
		t.Errorf("kernel's own error: got %v", err)
	}
	if err := Accepted(want); err == nil || !strings.Contains(err.Error(), "kernel rejected valid input: rejected") {
		t.Errorf("Accepted: %v", err)
	}
}

// Overlapping lays the input over the output's tail, and a write through
// either to the shared part is seen.
func TestOverlapping(t *testing.T) {
	o, in := Overlapping("dst", []float32{1, 2, 3}, "gradOut", []float32{3, 4}, 1)
	if &o.F32()[2] != &in.F32()[0] || in.F32()[1] != 4 {
		t.Fatalf("dst %v and gradOut %v do not share dst's last element", o.F32(), in.F32())
	}
	if err := Call(func() error { o.F32()[2] = 9; return nil }, o, in); err != nil {
		t.Errorf("a write inside dst: %v", err)
	}
	if err := Call(func() error { in.F32()[1] = 9; return nil }, o, in); !IsViolation(err, StrayWrite) {
		t.Errorf("a write to gradOut past dst: %v", err)
	}
	o, ids := OverlappingIDs("dst", []float32{0, math.Float32frombits(2)}, "ids", []int32{2})
	if got := ids.I32(); len(got) != 1 || got[0] != 2 || &o.F32()[1] != (*float32)(unsafePointer(&got[0])) {
		t.Errorf("ids laid over dst: %v", got)
	}
}

// A failure's class ignores data and numbers but not what went wrong.
func TestClass(t *testing.T) {
	same := [][2]error{
		{errors.New("row 3 col 1: got 1, want 2, |diff| 1 > bound 1e-7 (row occurs 2 times); 1 element(s) off"),
			errors.New("row 0 col 0: got NaN, want -Inf, |diff| NaN > bound 0 (row occurs 9 times); 4 element(s) off")},
		{errors.New(`permuting the positions (ids=[1 2 3]) changed the result: row 1`), errors.New(`permuting the positions (ids=[0]) changed the result: row 0`)},
		{&Violation{Panicked, "kernel panicked: index 5"}, &Violation{Panicked, "kernel panicked: nil map"}},
	}
	for _, p := range same {
		if Class(p[0]) != Class(p[1]) {
			t.Errorf("%q and %q differ in class: %q, %q", p[0], p[1], Class(p[0]), Class(p[1]))
		}
	}
	differ := [][2]error{
		{&Violation{Panicked, "kernel panicked"}, errors.New("kernel panicked")},
		{errors.New("untouched row 1 changed: x"), errors.New("padding row 1 changed: x")},
		{&Violation{StrayWrite, "m"}, &Violation{ChangedInput, "m"}},
	}
	for _, p := range differ {
		if Class(p[0]) == Class(p[1]) {
			t.Errorf("%q and %q share class %q", p[0], p[1], Class(p[0]))
		}
	}
}

type size int

func (n size) String() string { return fmt.Sprintf("n=%d", int(n)) }
func (n size) Size() string   { return n.String() }

// Shrinking stays with the failure first found: a case that panics for
// n ≥ 10 and gives a wrong value below shrinks to n = 10, not to n = 1.
func TestShrinkKeepsTheFailure(t *testing.T) {
	halve := func(v any) gopter.Shrink {
		n := v.(size)
		cands := []size{n / 2, n - 1}
		return func() (any, bool) {
			for len(cands) > 0 {
				c := cands[0]
				cands = cands[1:]
				if c >= 0 && c < n {
					return c, true
				}
			}
			return nil, false
		}
	}
	g := func(p *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(size(50+p.Rng.Intn(50)), halve)
	}
	err := ForAll(Config{Seed: 1}, "two-bugs", "kernel", 20, g, func(n size) error {
		switch {
		case n >= 10:
			return &Violation{Panicked, fmt.Sprintf("kernel panicked: index %d", n)}
		case n >= 1:
			return errors.New("wrong value")
		}
		return nil
	})
	var f *Failure[size]
	if !errors.As(err, &f) {
		t.Fatalf("want a *Failure, got %v", err)
	}
	if f.Case != 10 || !IsViolation(f.Err, Panicked) {
		t.Errorf("shrunk to %v failing with %v, want n=10 and the panic", f.Case, f.Err)
	}
	want := "kernel: n=10 (shrunk in "
	if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Count(msg, "n=10") != 1 ||
		!strings.HasSuffix(msg, "kernel panicked: index 10 [seed 1: reproduce with Config.Seed=1]") {
		t.Errorf("message %q: want it to start %q, name the case once and end with the error and hint", msg, want)
	}
}

// With Trace set, the check, the kernel and the case are written before
// the kernel runs, so a crash that kills the process is traceable.
func TestTraceBeforeTheCall(t *testing.T) {
	var buf bytes.Buffer
	cfg := Config{Seed: 4, Trace: &buf}
	var seen string
	check := NewCheck("traced", "k", func(cfg Config, r *Report) {
		r.Try(size(3), func() error { seen = buf.String(); return nil })
	})
	if err := check.Run(cfg); err != nil {
		t.Fatal(err)
	}
	if want := "embgrad: traced: k: running n=3 (seed 4)\n"; seen != want {
		t.Errorf("before the call the trace held %q, want %q", seen, want)
	}
	buf.Reset()
	g := gopter.DeriveGen(func(n int) size { return size(n) }, func(n size) int { return int(n) }, gen.IntRange(7, 7))
	_ = ForAll(cfg, "traced-prop", "k", 1, g, func(size) error { seen = buf.String(); return nil })
	if want := "embgrad: traced-prop: k: running n=7 (seed 4)\n"; seen != want {
		t.Errorf("ForAll: before the call the trace held %q, want %q", seen, want)
	}
}

package suite

import (
	"errors"
	"fmt"
	"testing"

	"github.com/leanovate/gopter"
)

type remote struct{}

func (remote) Unobservable() ([]string, string) { return []string{StrayWrite}, "elsewhere" }

// Needs marks a check not applicable for a Boundary kernel that cannot show
// what the check is for, and only then; Run reports it as such, Join does
// not count it, and calling Run directly gives an error, not a pass.
func TestNeeds(t *testing.T) {
	ran := 0
	c := Check{Name: "guards", Run: func(Config) error { ran++; return errors.New("caught") }}
	if Needs(c, struct{}{}, StrayWrite).Run(Config{}) == nil || ran != 1 {
		t.Fatal("a kernel in process must run the check")
	}
	if Needs(c, remote{}, ChangedInput).Run(Config{}) == nil || ran != 2 {
		t.Fatal("a check of what the kernel can show must run")
	}
	na := Needs(c, remote{}, ChangedInput, StrayWrite)
	var e *NotApplicable
	if err := na.Run(Config{}); !errors.As(err, &e) || ran != 2 || e.Why != "writes outside the output cannot be observed: elsewhere" {
		t.Fatalf("Run: %v (ran %d)", err, ran)
	}
	rs := Run([]Check{na}, Config{Seed: 1})
	if rs[0].Err != nil || rs[0].NotApplicable == "" || Join(rs) != nil {
		t.Fatalf("Run: %+v", rs[0])
	}
}

// A first failure wrapping ErrUnavailable is reported as found, unshrunk.
func TestUnavailableNotShrunk(t *testing.T) {
	g := func(p *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(size(50+p.Rng.Intn(50)), func(v any) gopter.Shrink {
			n := v.(size)
			return func() (any, bool) { n--; return n, n >= 0 }
		})
	}
	err := ForAll(Config{Seed: 1}, "down", "kernel", 20, g, func(n size) error {
		return fmt.Errorf("%w: process down", ErrUnavailable)
	})
	var f *Failure[size]
	if !errors.As(err, &f) || f.Shrinks != 0 || f.Case != f.Orig {
		t.Fatalf("%v: want the first case, unshrunk", err)
	}
}

// A shrunk case rerun when the kernel is no longer reachable keeps the
// error it failed with during shrinking.
func TestShrunkThenUnavailable(t *testing.T) {
	g := func(p *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(size(50+p.Rng.Intn(50)), func(v any) gopter.Shrink {
			n := v.(size)
			return func() (any, bool) { n--; return n, n >= 10 }
		})
	}
	calls := 0
	err := ForAll(Config{Seed: 1}, "crash", "kernel", 20, g, func(n size) error {
		calls++
		if calls > 30 {
			return fmt.Errorf("%w: process down", ErrUnavailable)
		}
		return &Violation{Kind: "process", Msg: fmt.Sprintf("crashed at %d", n)}
	})
	var f *Failure[size]
	if !errors.As(err, &f) || errors.Is(f.Err, ErrUnavailable) || f.Err.Error() != fmt.Sprintf("crashed at %d", int(f.Case)) {
		t.Fatalf("%v: want the crash of the shrunk case", err)
	}
}

package suite

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// MaxDetails is how many failing cases a Report gives in full; the rest
// are counted.
const MaxDetails = 4

// A Report collects one check's failures, each naming the subject (the
// kernel, or the oracle), the case, what went wrong and the reproduce hint.
type Report struct {
	check, subject string
	cfg            Config
	errs           []error
	more           int
}

// NewCheck makes a check of subject whose failures f reports.
func NewCheck(name, subject string, f func(Config, *Report)) Check {
	return Check{Name: name, Run: func(cfg Config) error {
		cfg, err := cfg.Resolve()
		if err != nil {
			return err
		}
		r := &Report{check: name, subject: subject, cfg: cfg}
		f(cfg, r)
		return r.Err()
	}}
}

// Try traces case c (Config.Trace) and then reports what f returns.
func (r *Report) Try(c fmt.Stringer, f func() error) {
	r.cfg.trace(r.check, r.subject, c)
	r.Fail(c, f())
}

// Fail records err, if not nil, as a failure on case c.
func (r *Report) Fail(c fmt.Stringer, err error) {
	if err == nil {
		return
	}
	if len(r.errs) == MaxDetails {
		r.more++
		return
	}
	r.errs = append(r.errs, fmt.Errorf("%s: %v: %w [%s]", r.subject, c, err, r.cfg.Reproduce()))
}

// Err is every failure joined, or nil.
func (r *Report) Err() error {
	if r.more > 0 {
		return errors.Join(append(r.errs, fmt.Errorf("%s: and %d more failing case(s)", r.subject, r.more))...)
	}
	return errors.Join(r.errs...)
}

// A Case is what ForAll generates: String is its compact form in failures,
// Size its shape in a few words (printed for the case first found).
type Case interface {
	String() string
	Size() string
}

// Failure is a property that does not hold, with the shrunk counterexample.
type Failure[C Case] struct {
	Subject string // the kernel
	Check   string
	Case    C     // the shrunk counterexample
	Orig    C     // the case first found failing
	Shrinks int   // shrinking steps from Orig to Case
	Err     error // what went wrong on Case
	Seed    uint64
	Short   bool // found with Config.Short, whose cases differ
	cfg     Config
}

func (f *Failure[C]) Error() string {
	return fmt.Sprintf("%s: %v (shrunk in %d steps from %s): %v [%s]",
		f.Subject, f.Case, f.Shrinks, f.Orig.Size(), f.Err, f.cfg.Reproduce())
}

func (f *Failure[C]) Unwrap() error { return f.Err }

// ForAll checks cond on n cases from gen (whose shrinker makes a failing
// case smaller) and returns a *Failure[C] with the shrunk counterexample, or
// nil. Each check draws from its own stream, from the suite seed and its
// name. Shrinking keeps only cases that fail the same way as the first
// (see Class), so a counterexample is never traded for another bug's; a
// first failure wrapping ErrUnavailable is not shrunk at all.
func ForAll[C Case](cfg Config, check, subject string, n int, gen gopter.Gen, cond func(C) error) error {
	cfg, err := cfg.Resolve()
	if err != nil {
		return err
	}
	params := gopter.DefaultTestParametersWithSeed(int64(cfg.Seed ^ hash(check)))
	params.MinSuccessfulTests = n
	var class string
	var first error
	found, unavailable := false, false
	res := prop.ForAll(func(c C) string {
		cfg.trace(check, subject, c)
		err := cond(c)
		switch {
		case err == nil:
			return ""
		case !found:
			found, class, first = true, Class(err), err
			unavailable = errors.Is(err, ErrUnavailable)
		case unavailable:
			// Let gopter shrink at once (every case fails the same); the
			// case first found is reported, unshrunk, below.
		case Class(err) != class:
			return "" // another failure: not a smaller case of this one
		}
		return err.Error()
	}, gen).Check(params)
	if res.Passed() {
		return nil
	}
	if len(res.Args) == 0 {
		return fmt.Errorf("%s: gopter: %v after %d cases: %v [%s]", subject, res.Status, res.Succeeded, res.Error, cfg.Reproduce())
	}
	a := res.Args[0]
	f := &Failure[C]{Subject: subject, Check: check, Case: a.Arg.(C), Orig: a.OrigArg.(C), Shrinks: a.Shrinks,
		Err: res.Error, Seed: cfg.Seed, Short: cfg.Short, cfg: cfg}
	if unavailable {
		// The kernel never ran: no smaller case is a smaller bug.
		f.Case, f.Shrinks, f.Err = f.Orig, 0, first
	}
	if f.Err == nil {
		// Rerun the shrunk case to keep the error's type (a
		// *reference.Mismatch, say); a flaky kernel may pass now.
		// (or it is no longer reachable: then what it said when it failed).
		if f.Err = cond(f.Case); f.Err == nil || errors.Is(f.Err, ErrUnavailable) {
			f.Err = errors.New(strings.Join(res.Labels, "; "))
		}
	}
	return f
}

var (
	groups  = regexp.MustCompile(`\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|"[^"]*"`)
	numbers = regexp.MustCompile(`[-+]?(0x[0-9a-fA-F]+|\d+(\.\d*)?([eE][-+]?\d+)?|NaN|Inf)`)
)

// Class is what "failing the same way" compares: a Violation's kind, else
// the message with its numbers and its bracketed or quoted parts (case
// data, lists) taken out. Two failures of one bug on different data share
// a class; a panic and a wrong value do not, nor a wrong value in an
// untouched row and one in a named row.
func Class(err error) string {
	var v *Violation
	if errors.As(err, &v) {
		return "violation " + v.Kind
	}
	s := err.Error()
	for {
		t := groups.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	return numbers.ReplaceAllString(s, "#")
}

// Sub returns an empty Report for the same check, for one goroutine of a
// check that runs cases concurrently; Merge adds it back.
func (r *Report) Sub() *Report { return &Report{check: r.check, subject: r.subject, cfg: r.cfg} }

// Merge adds s's failures to r.
func (r *Report) Merge(s *Report) {
	for _, err := range s.errs {
		if len(r.errs) == MaxDetails {
			r.more++
			continue
		}
		r.errs = append(r.errs, err)
	}
	r.more += s.more
}

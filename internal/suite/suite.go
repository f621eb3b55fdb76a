// Package suite is the one engine under the gradcheck and property suites:
// the seed and size settings (Config), named checks and their driver, one
// guarded call over any set of float32 and int32 buffers (Call), failure
// reports that name the kernel, the case and how to reproduce it (Report,
// and Failure for shrunk property counterexamples), one list of widths and
// one value generator.
//
// A new form of the backward brings a contract (root package), an oracle
// (reference/) and a list of checks; its checks call its kernel through
// Call, report through NewCheck or ForAll, and draw data from Stream and
// Value, so no form has a call wrapper, a case printer or a seed scheme of
// its own.
package suite

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
)

// DefaultSeed is the seed used when neither -embgrad.seed nor EMBGRAD_SEED is
// set, so that runs reproduce by default.
const DefaultSeed = 1

// seedFlag is -embgrad.seed. It is registered only in test binaries
// (testing.Testing), so importing a suite adds no flag to a program's own
// command line; elsewhere EMBGRAD_SEED and Config.Seed set the seed.
var seedFlag struct {
	v   uint64
	set bool
}

type seedValue struct{}

func (seedValue) String() string { return strconv.FormatUint(seedFlag.v, 10) }
func (seedValue) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return err
	}
	seedFlag.v, seedFlag.set = v, true
	return nil
}

var flagRegistered = testing.Testing()

func init() {
	if flagRegistered {
		flag.Var(seedValue{}, "embgrad.seed", "seed for embgrad's gradcheck and property suites, 0 included (default: $EMBGRAD_SEED, else 1)")
	}
}

// seedFrom says where a resolved seed came from, for the reproduce hint.
type seedFrom int

const (
	unresolved seedFrom = iota
	fromDefault
	fromFlag
	fromEnv
	fromConfig
)

// Seed returns the seed in force: -embgrad.seed if given (0 included),
// else $EMBGRAD_SEED if set (0 included), else DefaultSeed. A malformed
// EMBGRAD_SEED is an error, not a silent default.
func Seed() (uint64, error) {
	s, _, err := seed()
	return s, err
}

func seed() (uint64, seedFrom, error) {
	if seedFlag.set {
		return seedFlag.v, fromFlag, nil
	}
	if s := os.Getenv("EMBGRAD_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return 0, unresolved, fmt.Errorf("EMBGRAD_SEED=%q: %v", s, err)
		}
		return v, fromEnv, nil
	}
	return DefaultSeed, fromDefault, nil
}

// Config sets how a suite runs.
type Config struct {
	// Seed is the suite seed. Zero means Seed() (the flag, the
	// environment or the default) unless SeedSet is true.
	Seed uint64
	// SeedSet makes Seed the seed even when it is 0.
	SeedSet bool
	// Short runs fewer and smaller cases, as under go test -short.
	Short bool
	// Trace, if not nil, receives a line naming the check, the kernel and
	// the case before the case's kernel calls, so that a crash the suite
	// cannot recover (a panic on a kernel's own goroutine kills the
	// process) shows what was running. Test sets it to stderr under -v.
	Trace io.Writer

	from seedFrom
}

// WithSeed returns c with seed s, 0 included.
func (c Config) WithSeed(s uint64) Config {
	c.Seed, c.SeedSet, c.from = s, true, unresolved
	return c
}

// Resolve fills in the seed and records where it came from; resolving a
// resolved Config changes nothing.
func (c Config) Resolve() (Config, error) {
	switch {
	case c.from != unresolved:
	case c.Seed != 0 || c.SeedSet:
		c.from = fromConfig
	default:
		s, from, err := seed()
		if err != nil {
			return c, err
		}
		c.Seed, c.from = s, from
	}
	return c, nil
}

// Reproduce is the hint every failure ends with: the seed and how to run
// it again — with the flag or the environment when the seed came from
// there (or was the default), with Config.Seed when the caller set it.
func (c Config) Reproduce() string {
	if c.from == fromConfig {
		how := fmt.Sprintf("Config.Seed=%d", c.Seed)
		if c.Seed == 0 {
			how += " and Config.SeedSet"
		}
		if c.Short {
			how += " and Config.Short"
		}
		return fmt.Sprintf("seed %d: reproduce with %s", c.Seed, how)
	}
	how := fmt.Sprintf("EMBGRAD_SEED=%d", c.Seed)
	if flagRegistered {
		how = fmt.Sprintf("-embgrad.seed=%d or %s", c.Seed, how)
	}
	if c.Short {
		how += " and -short"
	}
	return fmt.Sprintf("seed %d: reproduce with %s", c.Seed, how)
}

// traceMu keeps trace lines from concurrent checks whole.
var traceMu sync.Mutex

// trace writes a line about to run to c.Trace, if set.
func (c Config) trace(check, subject string, cs fmt.Stringer) {
	if c.Trace == nil {
		return
	}
	what := cs.String()
	if c, ok := cs.(Case); ok {
		what = c.Size() // generated cases print their data too: too long for a trace
	}
	traceMu.Lock()
	defer traceMu.Unlock()
	fmt.Fprintf(c.Trace, "embgrad: %s: %s: running %s (seed %d)\n", check, subject, what, c.Seed)
}

// Check is one named check of a suite.
type Check struct {
	Name string
	Run  func(Config) error
}

// Result is the outcome of one check: Err is nil when it passed (or did
// not apply: then NotApplicable says why, see Needs).
type Result struct {
	Check         string
	Err           error
	NotApplicable string
}

// Run runs every check with cfg and returns one result per check, in order.
func Run(checks []Check, cfg Config) []Result {
	cfg, err := cfg.Resolve()
	out := make([]Result, len(checks))
	for i, c := range checks {
		out[i].Check = c.Name
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].Err = c.Run(cfg)
		if why := notApplicable(out[i].Err); why != "" {
			out[i].Err, out[i].NotApplicable = nil, why
		}
	}
	return out
}

// Join returns the failures of rs as one error (nil if every check passed),
// each prefixed by its check's name.
func Join(rs []Result) error {
	var errs []error
	for _, r := range rs {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Check, r.Err))
		}
	}
	return errors.Join(errs...)
}

// Test runs each check as a subtest of t, with -short honoured and, under
// -v, each case traced to stderr before it runs (see Config.Trace).
func Test(t *testing.T, checks []Check) {
	t.Helper()
	cfg, err := Config{Short: testing.Short()}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		cfg.Trace = os.Stderr
	}
	for _, c := range checks {
		t.Run(c.Name, func(t *testing.T) {
			if err := c.Run(cfg); notApplicable(err) != "" {
				t.Skip(err)
			} else if err != nil {
				t.Error(err)
			}
		})
	}
}

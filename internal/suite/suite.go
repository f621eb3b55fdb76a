// Package suite holds what the gradcheck and property suites share: a named
// check, its result, the seed and size settings, the testing driver, guard
// bands around the buffers a kernel writes, and bitwise comparison.
package suite

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// DefaultSeed is the seed used when neither -embgrad.seed nor EMBGRAD_SEED is
// set, so that runs reproduce by default.
const DefaultSeed = 1

var seedFlag = flag.Uint64("embgrad.seed", 0, "seed for embgrad's gradcheck and property suites (0: $EMBGRAD_SEED, else the default)")

// Seed returns the seed in force: -embgrad.seed, else $EMBGRAD_SEED, else
// DefaultSeed. A malformed EMBGRAD_SEED is an error, not a silent default.
func Seed() (uint64, error) {
	if *seedFlag != 0 {
		return *seedFlag, nil
	}
	if s := os.Getenv("EMBGRAD_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("EMBGRAD_SEED=%q: %v", s, err)
		}
		return v, nil
	}
	return DefaultSeed, nil
}

// Config sets how a suite runs.
type Config struct {
	Seed  uint64 // 0 means Seed()
	Short bool   // fewer and smaller cases, as under go test -short
}

// Resolve fills in the seed.
func (c Config) Resolve() (Config, error) {
	if c.Seed == 0 {
		s, err := Seed()
		if err != nil {
			return c, err
		}
		c.Seed = s
	}
	return c, nil
}

// Check is one named check of a suite.
type Check struct {
	Name string
	Run  func(Config) error
}

// Result is the outcome of one check: Err is nil when it passed.
type Result struct {
	Check string
	Err   error
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

// Test runs each check as a subtest of t, with -short honoured.
func Test(t *testing.T, checks []Check) {
	t.Helper()
	cfg, err := Config{Short: testing.Short()}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		t.Run(c.Name, func(t *testing.T) {
			if err := c.Run(cfg); err != nil {
				t.Errorf("seed %d: %v", cfg.Seed, err)
			}
		})
	}
}

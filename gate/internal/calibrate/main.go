// Command calibrate measures the regression gate's error rates by
// resampling a pool of real benchmark samples of one unchanged commit (see
// results/gate/calibration/collect.sh, which collects it):
//
//	go run ./gate/internal/calibrate -pool POOL.txt [-n 10] [-draws 200]
//		[-slow 0,3,5,10,20] [-target REGEXP] [-seed 1]
//
// A pool holds R rounds ("round: r" config lines), each one sample of every
// benchmark. One simulated gate run draws 2n distinct rounds at random: n
// for OLD, n for NEW (whole rounds, so benchmarks measured together stay
// together, as in a real interleaved run). An injected slowdown s scales
// NEW's samples of the benchmarks matching -target: sec/op × (1+s), rates
// ÷ (1+s) — what -embgrad.slowdown does live (collect.sh checks that on a
// few rounds). The sides go through gate.Compare as files would. If that
// says regression, the suspects are re-run on 2n further rounds not used
// yet, and the run is decided by each method:
//
//   - and: the gate's current rule — the re-run alone must confirm it
//     (Report.Confirm), a second independent test ANDed with the first;
//   - pooled: the re-run's samples are pooled with the first run's (2n per
//     side) and that one comparison decides; its false-alarm rate is at most
//     the single test's, since it fires only when the pooled test does;
//   - once: no re-run, the first comparison decides.
//
// With slowdown 0 the rate of regressions is the false-alarm rate, above 0
// the detection rate (counting a detection only if a -target benchmark was
// among the regressions). Draws reuse the pool's rounds, so they are not
// independent: the rates are those of this pool, whose size (R) bounds how
// much they can say; the output states R.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/embgrad/embgrad/gate"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "calibrate:", err)
		os.Exit(2)
	}
}

func run(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	pool := fs.String("pool", "", "pool of samples (benchfmt, with round: config lines)")
	n := fs.Int("n", 10, "samples per side of one gate run (the workflow's -count)")
	draws := fs.Int("draws", 200, "simulated gate runs per slowdown")
	slows := fs.String("slow", "0,3,5,10,20", "injected slowdowns in percent")
	target := fs.String("target", "impl=scatter/", "regexp of the benchmarks slowed down")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tre, err := regexp.Compile(*target)
	if err != nil {
		return err
	}
	rounds, err := readPool(*pool)
	if err != nil {
		return err
	}
	if len(rounds) < 2**n {
		return fmt.Errorf("pool %s has %d rounds; a run needs 2n = %d", *pool, len(rounds), 2**n)
	}
	rerun := len(rounds) >= 4**n // else only "once" is simulated
	if !rerun {
		fmt.Fprintf(w, "(fewer than 4n = %d rounds: no re-run; the and and pooled columns are not simulated)\n", 4**n)
	}
	fmt.Fprintf(w, "pool %s: %d rounds; n = %d per side, %d draws per slowdown, target %q, seed %d\n\n", *pool, len(rounds), *n, *draws, *target, *seed)
	fmt.Fprintf(w, "| slowdown | once | and (current) | pooled |\n|---|---|---|---|\n")
	for _, f := range strings.Split(*slows, ",") {
		pct, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("-slow %q: %v", f, err)
		}
		rng := rand.New(rand.NewPCG(*seed, uint64(pct*1000)))
		var hits [3]int
		for range *draws {
			perm := rng.Perm(len(rounds))
			pick := func(lo int) [][]*benchfmt.Result {
				var s [][]*benchfmt.Result
				for _, i := range perm[lo : lo+*n] {
					s = append(s, rounds[i])
				}
				return s
			}
			o1, n1 := pick(0), pick(*n)
			var o2, n2 [][]*benchfmt.Result
			if rerun {
				o2, n2 = pick(2**n), pick(3**n)
			}
			h, err := decide(o1, n1, o2, n2, pct/100, tre)
			if err != nil {
				return err
			}
			for m := range hits {
				if h[m] {
					hits[m]++
				}
			}
		}
		rate := func(k int) string {
			if k > 0 && !rerun {
				return "–"
			}
			return fmt.Sprintf("%d/%d = %.1f %%", hits[k], *draws, 100*float64(hits[k])/float64(*draws))
		}
		fmt.Fprintf(w, "| %g %% | %s | %s | %s |\n", pct, rate(0), rate(1), rate(2))
	}
	return nil
}

// decide runs the gate on the first sides and, if it flags a regression,
// the re-run on the second, and returns whether each method (once, and,
// pooled) fails the run (with a slowdown: on a target benchmark).
func decide(o1, n1, o2, n2 [][]*benchfmt.Result, slow float64, target *regexp.Regexp) ([3]bool, error) {
	var out [3]bool
	first, err := compare(o1, n1, slow, target, nil)
	if err != nil {
		return out, err
	}
	counts := func(r *gate.Report, only gate.Verdict) bool {
		for _, row := range r.Rows {
			if row.Verdict == only && (slow == 0 || target.MatchString(row.Name)) {
				return true
			}
		}
		return false
	}
	out[0] = first.Outcome == gate.Regression && counts(first, gate.Regressed)
	if first.Outcome != gate.Regression || o2 == nil {
		return out, nil
	}
	suspects := map[string]bool{}
	for _, s := range first.Suspects() {
		suspects[s] = true
	}
	rerun, err := compare(o2, n2, slow, target, suspects)
	if err != nil {
		return out, err
	}
	and := *first
	and.Rows = slices.Clone(first.Rows)
	and.Confirm(rerun)
	out[1] = and.Outcome == gate.Regression && counts(&and, gate.Regressed)
	pooled, err := compare(append(slices.Clone(o1), o2...), append(slices.Clone(n1), n2...), slow, target, suspects)
	if err != nil {
		return out, err
	}
	out[2] = pooled.Outcome == gate.Regression && counts(pooled, gate.Regressed)
	return out, nil
}

// compare writes the rounds of each side as benchfmt (only benchmarks in
// keep, if keep is not nil), NEW's targets slowed down, and runs
// gate.Compare with the default options.
func compare(old, new [][]*benchfmt.Result, slow float64, target *regexp.Regexp, keep map[string]bool) (*gate.Report, error) {
	var ob, nb bytes.Buffer
	for side, rounds := range [][][]*benchfmt.Result{old, new} {
		buf := []*bytes.Buffer{&ob, &nb}[side]
		bw := benchfmt.NewWriter(buf)
		for _, round := range rounds {
			for _, r := range round {
				full := "Benchmark" + string(r.Name.Full())
				if keep != nil && !keep[full] {
					continue
				}
				r = r.Clone()
				if side == 1 && slow > 0 && target.MatchString(full) {
					// benchfmt's writer prints OrigValue where the unit
					// was tidied (ns/op, MB/s), Value elsewhere: scale both.
					for i, v := range r.Values {
						f := 1.0
						switch {
						case v.Unit == "sec/op":
							f = 1 + slow
						case strings.HasSuffix(v.Unit, "/s"):
							f = 1 / (1 + slow)
						}
						r.Values[i].Value *= f
						r.Values[i].OrigValue *= f
					}
				}
				if err := bw.Write(r); err != nil {
					return nil, err
				}
			}
		}
	}
	d, err := gate.Read("OLD", &ob, "NEW", &nb)
	if err != nil {
		return nil, err
	}
	return gate.Compare(d, gate.Options{})
}

// readPool returns the pool's results grouped by round, in file order.
func readPool(path string) ([][]*benchfmt.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := benchfmt.NewReader(f, path)
	var rounds [][]*benchfmt.Result
	last := ""
	for rd.Scan() {
		r, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue // unit metadata, syntax errors: benchfmt reports them below
		}
		round := r.GetConfig("round")
		if round == "" {
			return nil, errors.New(path + ": a result without a round: config line")
		}
		if round != last {
			rounds = append(rounds, nil)
			last = round
		}
		rounds[len(rounds)-1] = append(rounds[len(rounds)-1], r.Clone())
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	return rounds, nil
}

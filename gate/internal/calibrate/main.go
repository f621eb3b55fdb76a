// Command calibrate measures the regression gate's error rates by
// resampling a pool of real benchmark samples (see
// results/gate/calibration/paired/collect.sh, which collects one):
//
//	go run ./gate/internal/calibrate -pool POOL.txt [-n 10] [-draws 400]
//		[-extend N] [-slow 0,3,5,10,20] [-target REGEXP] [-screen 1] [-live] [-seed 1]
//
// A pool is a sequence of runs (one process each, one sample of every
// benchmark), grouped into pairs: the "pair: k" and "side: old|new" config
// lines of collect.sh, or, in an older pool with only "round: r" lines,
// rounds 2k-1 and 2k. `embgrad gate -base` runs OLD and NEW as such pairs
// (ABBA), so one simulated gate run draws n distinct pairs at random, and
// an extension (re-run) n further pairs not drawn yet. An injected slowdown
// s scales NEW's samples of the benchmarks matching -target: sec/op ×
// (1+s), rates ÷ (1+s). A pool collected with the live knob
// (-embgrad.slowdown on NEW) is used as it is with -slow 0 and -target
// matching every kernel: its detection rate is that of the real knob.
//
// Each draw is decided by every method, through gate.Compare as the
// command decides (cmd/embgrad/gatebase.go):
//
//   - mw-once: Mann–Whitney U on n samples per side, no re-run;
//   - mw-and: the old rule: the re-run (suspects, n fresh pairs) alone must
//     confirm, a second independent test ANDed with the first;
//   - mw-pooled: the re-run's samples pooled with the first's (2n per
//     side), Holm over the suspects; fires only where the first test fired;
//   - paired-pooled: the same with the paired signed-rank test
//     (gate.Options.Paired);
//   - paired-seq: paired and sequential (the new default, -confirm seq):
//     the first look at n pairs only screens — a benchmark whose
//     Holm-adjusted p is ≤ -screen and which is slower at all is extended by
//     n pairs — and the pooled 2n pairs decide, Holm over the first look's
//     whole family (gate.Options.Family), so the false-alarm rate is at most
//     alpha whatever the screening chose;
//   - mw-seq: the same sequential rule with the unpaired Mann–Whitney U.
//
// With slowdown 0 on an A/A pool the rate of regressions is the false-alarm
// rate; otherwise the detection rate (a detection counts only if a -target
// benchmark regressed). "ext" is the fraction of draws in which paired-seq
// ran the extension (its cost: n pairs plus n pairs of the suspects that
// often). Draws reuse the pool's pairs, so they are not independent: the
// rates are those of this pool, whose size bounds what they can say; the
// output states it.
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

// methods, in column order.
var methods = []string{"mw-once", "mw-and", "mw-pooled", "paired-pooled", "paired-seq", "mw-seq"}

func run(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	pool := fs.String("pool", "", "pool of samples (benchfmt, with pair:/side: or round: config lines)")
	n := fs.Int("n", 10, "pairs of one gate run (the workflow's -count)")
	extN := fs.Int("extend", 0, "pairs of the re-run/extension (the gate's -extend; 0: n)")
	draws := fs.Int("draws", 400, "simulated gate runs per slowdown")
	slows := fs.String("slow", "0,3,5,10,20", "injected slowdowns in percent")
	target := fs.String("target", "impl=scatter/", "regexp of the benchmarks slowed down (and counted as detections)")
	screen := fs.Float64("screen", 1, "paired-seq: Holm-adjusted p at or below which a slower benchmark is extended")
	seed := fs.Uint64("seed", 1, "random seed")
	live := fs.Bool("live", false, "the pool's NEW runs had the live knob on: with -slow 0 count only -target regressions (detections)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tre, err := regexp.Compile(*target)
	if err != nil {
		return err
	}
	pairs, err := readPool(*pool)
	if err != nil {
		return err
	}
	if *extN <= 0 {
		*extN = *n
	}
	if len(pairs) < *n {
		return fmt.Errorf("pool %s has %d pairs; a run needs n = %d", *pool, len(pairs), *n)
	}
	ext := len(pairs) >= *n+*extN // else only the first look is simulated
	if !ext {
		fmt.Fprintf(w, "(fewer than n + extend = %d pairs: no re-run or extension; only mw-once is simulated, the seq columns as their first look alone)\n", *n+*extN)
	}
	fmt.Fprintf(w, "pool %s: %d pairs; n = %d pairs per run, %d more on re-run/extension, %d draws per slowdown, target %q, screen %g, live %v, seed %d\n\n",
		*pool, len(pairs), *n, *extN, *draws, *target, *screen, *live, *seed)
	fmt.Fprintf(w, "| slowdown | %s | ext |\n|---|%s---|\n", strings.Join(methods, " | "), strings.Repeat("---|", len(methods)))
	for _, f := range strings.Split(*slows, ",") {
		pct, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("-slow %q: %v", f, err)
		}
		rng := rand.New(rand.NewPCG(*seed, uint64(pct*1000)))
		hits := make([]int, len(methods))
		extended := 0
		for range *draws {
			perm := rng.Perm(len(pairs))
			pick := func(lo, k int) (old, new [][]*benchfmt.Result) {
				for _, i := range perm[lo : lo+k] {
					old = append(old, pairs[i][0])
					new = append(new, pairs[i][1])
				}
				return
			}
			s := sim{slow: pct / 100, target: tre, screen: *screen, live: *live}
			s.o1, s.n1 = pick(0, *n)
			if ext {
				s.o2, s.n2 = pick(*n, *extN)
			}
			h, x, err := s.decide()
			if err != nil {
				return err
			}
			for m := range hits {
				if h[m] {
					hits[m]++
				}
			}
			if x {
				extended++
			}
		}
		fmt.Fprintf(w, "| %g %% |", pct)
		for m, k := range hits {
			if !ext && m != 0 && m < 4 {
				fmt.Fprintf(w, " – |")
				continue
			}
			fmt.Fprintf(w, " %d/%d = %.1f %% |", k, *draws, 100*float64(k)/float64(*draws))
		}
		fmt.Fprintf(w, " %.0f %% |\n", 100*float64(extended)/float64(*draws))
	}
	return nil
}

// sim is one simulated gate run: first-look samples o1/n1 (pairs, in
// order), re-run samples o2/n2 (nil: none).
type sim struct {
	o1, n1, o2, n2 [][]*benchfmt.Result
	slow           float64
	target         *regexp.Regexp
	screen         float64
	live           bool // the pool's NEW side is slowed by the knob: count target regressions only
}

func (s *sim) counts(r *gate.Report) bool {
	if r.Outcome != gate.Regression {
		return false
	}
	for _, row := range r.Rows {
		if row.Verdict == gate.Regressed && (s.slow == 0 && !s.live || s.target.MatchString(row.Name)) {
			return true
		}
	}
	return false
}

// decide returns, per method, whether the run fails (on a target), and
// whether paired-seq extended.
func (s *sim) decide() ([]bool, bool, error) {
	out := make([]bool, len(methods))
	cat := func(a, b [][]*benchfmt.Result) [][]*benchfmt.Result { return append(slices.Clone(a), b...) }
	// mw-*: the old gate.
	first, err := s.compare(s.o1, s.n1, nil, gate.Options{})
	if err != nil {
		return nil, false, err
	}
	out[0] = s.counts(first)
	if s.o2 != nil && first.Outcome == gate.Regression {
		sus := names(first.Suspects())
		rerun, err := s.compare(s.o2, s.n2, sus, gate.Options{})
		if err != nil {
			return nil, false, err
		}
		and := clone(first)
		and.Confirm(rerun)
		out[1] = s.counts(and)
		pooled, err := s.compare(cat(s.o1, s.o2), cat(s.n1, s.n2), sus, gate.Options{})
		if err != nil {
			return nil, false, err
		}
		p := clone(first)
		p.Confirm(pooled)
		out[2] = s.counts(p)
	}
	// paired-pooled.
	pf, err := s.compare(s.o1, s.n1, nil, gate.Options{Paired: true})
	if err != nil {
		return nil, false, err
	}
	if s.o2 != nil && pf.Outcome == gate.Regression {
		pooled, err := s.compare(cat(s.o1, s.o2), cat(s.n1, s.n2), names(pf.Suspects()), gate.Options{Paired: true})
		if err != nil {
			return nil, false, err
		}
		p := clone(pf)
		p.Confirm(pooled)
		out[3] = s.counts(p)
	}
	// paired-seq, mw-seq: screen, extend, decide on the pooled samples
	// against the whole first family. ext reports paired-seq's extension.
	var extended bool
	for m, paired := range map[int]bool{4: true, 5: false} {
		sf, err := s.compare(s.o1, s.n1, nil, gate.Options{Paired: paired, Screen: s.screen})
		if err != nil {
			return nil, false, err
		}
		sus := sf.Suspects()
		if s.o2 == nil {
			out[m] = s.counts(sf)
			continue
		}
		if len(sus) == 0 {
			continue
		}
		if paired {
			extended = true
		}
		pooled, err := s.compare(cat(s.o1, s.o2), cat(s.n1, s.n2), names(sus), gate.Options{Paired: paired, Family: sf.Tests})
		if err != nil {
			return nil, false, err
		}
		p := clone(sf)
		p.Confirm(pooled)
		out[m] = s.counts(p)
	}
	return out, extended, nil
}

func names(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

func clone(r *gate.Report) *gate.Report {
	c := *r
	c.Rows = slices.Clone(r.Rows)
	return &c
}

func (s *sim) compare(old, new [][]*benchfmt.Result, keep map[string]bool, opt gate.Options) (*gate.Report, error) {
	return compare(old, new, s.slow, s.target, keep, opt)
}

// compare writes the rounds of each side as benchfmt (only benchmarks in
// keep, if keep is not nil), NEW's targets slowed down, and runs
// gate.Compare with the default options.
func compare(old, new [][]*benchfmt.Result, slow float64, target *regexp.Regexp, keep map[string]bool, opt gate.Options) (*gate.Report, error) {
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
	return gate.Compare(d, opt)
}

// readPool returns the pool's pairs: [0] OLD's run, [1] NEW's, each the
// results of one run in file order.
func readPool(path string) ([][2][]*benchfmt.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := benchfmt.NewReader(f, path)
	type run struct {
		pair, side string
		res        []*benchfmt.Result
	}
	var runs []*run
	for rd.Scan() {
		r, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue // unit metadata, syntax errors: benchfmt reports them below
		}
		pair, side := r.GetConfig("pair"), r.GetConfig("side")
		if pair == "" {
			if round := r.GetConfig("round"); round != "" {
				pair, side = "round "+round, "round "+round
			} else {
				return nil, errors.New(path + ": a result without a pair: (or round:) config line")
			}
		}
		if len(runs) == 0 || runs[len(runs)-1].pair != pair || runs[len(runs)-1].side != side {
			runs = append(runs, &run{pair: pair, side: side})
		}
		last := runs[len(runs)-1]
		last.res = append(last.res, r.Clone())
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	var pairs [][2][]*benchfmt.Result
	for i := 0; i+1 < len(runs); i += 2 {
		a, b := runs[i], runs[i+1]
		if strings.HasPrefix(a.pair, "round ") { // an older pool: consecutive rounds
			pairs = append(pairs, [2][]*benchfmt.Result{a.res, b.res})
			continue
		}
		if a.pair != b.pair || a.side == b.side {
			return nil, fmt.Errorf("%s: runs %d and %d (pair %s %s, pair %s %s) are not the two sides of one pair", path, i+1, i+2, a.pair, a.side, b.pair, b.side)
		}
		if a.side == "new" {
			a, b = b, a
		}
		pairs = append(pairs, [2][]*benchfmt.Result{a.res, b.res})
	}
	return pairs, nil
}

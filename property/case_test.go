package property

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// Generated cases are valid, keep the dyadic invariants, and cover what the
// suite promises: every width, V = 1, empty batches, every id distribution,
// every padding mode, scaling, and the awkward values.
func TestGeneratedCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	see := func(what string, ok bool) {
		if ok {
			seen[what] = true
		}
	}
	for n := range 300 { // each feature shows up in ≥ 3% of cases
		c := newCase(rng, n%2 == 0, full)
		if err := embgrad.Validate(c.Dst, c.V, c.D, c.IDs, c.GradOut, c.Opt); err != nil {
			t.Fatalf("invalid case %v: %v", c, err)
		}
		checkDyadic(t, c)
		for _, d := range suite.Widths {
			see("D="+strconv.Itoa(d), c.D == d)
		}
		counts := reference.Counts(c.V, c.IDs, c.Opt)
		see("V=1", c.V == 1)
		see("V>2000", c.V > 2000)
		see("N=0", len(c.IDs) == 0)
		see("N>3000", len(c.IDs) > 3000)
		see("all same", len(c.IDs) > 10 && !slices.ContainsFunc(c.IDs, func(id int32) bool { return id != c.IDs[0] }))
		see("sorted", len(c.IDs) > 10 && slices.IsSorted(c.IDs) && c.IDs[0] != c.IDs[len(c.IDs)-1])
		see("boundary", c.V > 2 && len(c.IDs) > 10 && !slices.ContainsFunc(c.IDs, func(id int32) bool { return id != 0 && int(id) != c.V-1 }))
		see("padding hit", c.Opt.HasPadding && slices.Contains(c.IDs, c.Opt.PaddingIdx))
		see("padding never hit", c.Opt.HasPadding && !slices.Contains(c.IDs, c.Opt.PaddingIdx))
		see("no padding", !c.Opt.HasPadding)
		see("scaled", c.Opt.ScaleGradByFreq)
		see("duplicates", slices.ContainsFunc(counts, func(n int) bool { return n > 1 }))
		see("zero dst", len(c.Dst) > 0 && !slices.ContainsFunc(c.Dst, func(x float32) bool { return x != 0 }))
		for _, x := range c.GradOut {
			a := math.Abs(float64(x))
			see("-0", math.Float32bits(x) == 1<<31)
			see("subnormal", a > 0 && a < 0x1p-126)
			see("huge", a > 0x1p100 && !math.IsInf(float64(x), 0))
			see("NaN", x != x)
			see("+Inf", math.IsInf(float64(x), 1))
		}
	}
	for _, want := range []string{"V=1", "V>2000", "N=0", "N>3000", "all same", "sorted", "boundary",
		"padding hit", "padding never hit", "no padding", "scaled", "duplicates", "zero dst",
		"-0", "subnormal", "huge", "NaN", "+Inf"} {
		if !seen[want] {
			t.Errorf("no generated case with %s", want)
		}
	}
	for _, d := range suite.Widths {
		if !seen["D="+strconv.Itoa(d)] {
			t.Errorf("no generated case with D=%d", d)
		}
	}
}

// checkDyadic fails if a dyadic case holds a value other than k/256 with
// |k| ≤ 256 (generated ones have |k| ≤ 64, shrinking makes 1s), a −0, or
// (scaled) a count that is not a power of two.
func checkDyadic(t *testing.T, c Case) {
	t.Helper()
	if !c.dyadic {
		return
	}
	for _, x := range append(slices.Clone(c.GradOut), c.Dst...) {
		if k := x * 256; k != float32(int(k)) || math.Abs(float64(k)) > 256 || math.Float32bits(x) == 1<<31 {
			t.Fatalf("value %v is not dyadic in %v", x, c)
		}
	}
	if c.Opt.ScaleGradByFreq {
		for v, n := range reference.Counts(c.V, c.IDs, c.Opt) {
			if bits.OnesCount(uint(n)) > 1 {
				t.Fatalf("row %d occurs %d times in scaled dyadic case %v", v, n, c)
			}
		}
	}
}

// Every shrink of a case is valid, keeps the dyadic invariants and is
// strictly simpler, so shrinking ends.
func TestShrinkCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Size in the order shrinking reduces it: shape, options, values.
	size := func(c Case) [3]int {
		nonTrivial := 0
		for _, x := range c.GradOut {
			if x != 1 {
				nonTrivial++
			}
		}
		for _, x := range c.Dst {
			if x != 0 {
				nonTrivial++
			}
		}
		opts := 0
		if c.Opt.HasPadding {
			opts++
		}
		if c.Opt.ScaleGradByFreq {
			opts++
		}
		return [3]int{len(c.IDs) + c.V + c.D, opts, nonTrivial}
	}
	for n := 0; n < 40; n++ {
		c := newCase(rng, n%2 == 0, short)
		shrink := shrinkCase(c)
		for m := 0; ; m++ {
			v, ok := shrink()
			if !ok {
				break
			}
			s := v.(Case)
			if err := embgrad.Validate(s.Dst, s.V, s.D, s.IDs, s.GradOut, s.Opt); err != nil {
				t.Fatalf("shrink %d of %v is invalid: %v", m, c, err)
			}
			checkDyadic(t, s)
			if a, b := size(s), size(c); slices.Compare(a[:], b[:]) >= 0 {
				t.Fatalf("shrink %d of %v is not simpler: %v", m, c, s)
			}
		}
	}
}

func TestString(t *testing.T) {
	c := Case{V: 2, D: 2, IDs: []int32{1, 1}, GradOut: []float32{0.5, -0.25, 1e-40, float32(math.NaN())},
		Opt: embgrad.Options{ScaleGradByFreq: true}.WithPadding(0), Dst: []float32{0, 1, 2, 3}}
	want := "V=2 D=2 ids=[1 1] g=[[0.5 -0.25] [1e-40 NaN]] pad=0 scale=on dst=[[0 1] [2 3]]"
	if got := c.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	long := Case{V: 20, D: 1, IDs: make([]int32, 20), GradOut: make([]float32, 20), Dst: make([]float32, 20)}
	want = "V=20 D=1 ids=[0 0 0 0 0 0 0 0 0 0 0 0 … (20 in all)] g=[0 0 0 0 0 0 0 0 0 0 0 0 … (20 in all)] pad=- scale=off dst=[0 0 0 0 0 0 0 0 0 0 0 0 … (20 in all)]"
	if got := long.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

package gate

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// bruteSignedRank enumerates all 2^n sign patterns of the midranks of |d|
// (zeros dropped) and returns the two-sided p: 2·P(W+ ≤ min(W+, W-)), or
// with le=false the mutant that counts only strictly smaller sums.
func bruteSignedRank(d []float64, le bool) float64 {
	var a []float64
	pos := map[int]bool{}
	for _, x := range d {
		if x != 0 {
			if x > 0 {
				pos[len(a)] = true
			}
			a = append(a, math.Abs(x))
		}
	}
	n := len(a)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return a[idx[i]] < a[idx[j]] })
	rank := make([]float64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && a[idx[j]] == a[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			rank[idx[k]] = float64(i+j+1) / 2
		}
		i = j
	}
	w, total := 0.0, 0.0
	for i := range a {
		total += rank[i]
		if pos[i] {
			w += rank[i]
		}
	}
	small := math.Min(w, total-w)
	cnt := 0
	for m := 0; m < 1<<n; m++ {
		s := 0.0
		for i := 0; i < n; i++ {
			if m&(1<<i) != 0 {
				s += rank[i]
			}
		}
		if s <= small+1e-9 && (le || s < small-1e-9) {
			cnt++
		}
	}
	return math.Min(1, 2*float64(cnt)/float64(int(1)<<n))
}

func TestSignedRankExact(t *testing.T) {
	// Table values: n = 10, W = 8 → P(W ≤ 8) = 25/1024.
	d := []float64{1, 2, 3, -4, 5, 6, 7, 8, 9, -4.5} // ranks 4 and 5 negative... W- = 4+5 = 9
	if p, n, exact := SignedRank(d); n != 10 || !exact || math.Abs(p-2*33.0/1024) > 1e-12 {
		t.Errorf("SignedRank = %g (n %d, exact %v), want 2·33/1024 (P(W ≤ 9) = 33/1024)", p, n, exact)
	}
	all := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p, _, _ := SignedRank(all); p != MinPairedPValue(10) || p != 2.0/1024 {
		t.Errorf("all positive: p %g, want 2/1024 = MinPairedPValue(10) %g", p, MinPairedPValue(10))
	}
	if p, n, _ := SignedRank([]float64{0, 0, 0}); p != 1 || n != 0 {
		t.Errorf("all zero: p %g n %d, want 1, 0", p, n)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.IntN(14)
		d := make([]float64, n)
		shift := rng.Float64() - 0.3
		for i := range d {
			d[i] = rng.NormFloat64() + shift
		}
		p, _, exact := SignedRank(d)
		if !exact {
			t.Fatalf("no ties, n %d: not exact", n)
		}
		if want := bruteSignedRank(d, true); math.Abs(p-want) > 1e-12 {
			t.Fatalf("n %d: SignedRank %g, brute force %g (%v)", n, p, want, d)
		}
	}
}

// The brute-force check catches a p that counts only strictly smaller rank
// sums (the mutant): on untied data the two differ whenever the observed
// sum has a positive count, which is always.
func TestSignedRankCheckCatchesMutant(t *testing.T) {
	d := []float64{1, -2, 3, 4, -5, 6, 7, 8}
	p, _, _ := SignedRank(d)
	if mut := bruteSignedRank(d, false); math.Abs(p-mut) < 1e-6 {
		t.Errorf("mutant p %g not told apart from SignedRank %g", mut, p)
	}
}

// With ties the normal approximation is used; it stays near the exact
// permutation p of the midranks.
func TestSignedRankTiesApprox(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 50; trial++ {
		n := 10 + rng.IntN(6)
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(rng.IntN(7) - 2) // ties and zeros
		}
		p, _, exact := SignedRank(d)
		want := bruteSignedRank(d, true)
		if exact {
			continue
		}
		if math.Abs(p-want) > 0.1 {
			t.Errorf("ties %v: approx %g, permutation %g", d, p, want)
		}
	}
}

func TestMinPairs(t *testing.T) {
	for _, c := range []struct {
		level float64
		want  int
	}{{0.05, 6}, {0.05 / 6, 8}, {0.05 / 100, 12}} {
		if got := MinPairs(c.level); got != c.want {
			t.Errorf("MinPairs(%g) = %d, want %d", c.level, got, c.want)
		}
	}
}

// A drift shared by the two runs of each pair hides a 4 % slowdown from the
// unpaired test and not from the paired one; same code passes both.
func TestPaired(t *testing.T) {
	drift := func(i int) float64 { return []float64{1, 1.3, 0.8, 1.5, 1.1, 0.9, 1.4, 1.2, 0.85, 1.25, 1.05, 0.95}[i] }
	jit := func(j, i int) float64 { return 1 + 0.002*float64((i*7+j*3)%5-2) }
	old := results("", 12, func(j, i int) float64 { return 1000 * drift(i) * jit(j, i) }, "BenchmarkA", "BenchmarkB")
	slow := results("", 12, func(j, i int) float64 {
		return []float64{1100, 1000}[j] * drift(i) * jit(j+1, i)
	}, "BenchmarkA", "BenchmarkB")
	unp, err := compare(t, old, slow, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if unp.Outcome != Pass {
		t.Errorf("unpaired: %v, want pass (the drift hides the slowdown)", unp.Outcome)
	}
	rep, err := compare(t, old, slow, Options{Paired: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Paired || rep.Outcome != Regression {
		t.Fatalf("paired: %v, want regression", rep.Outcome)
	}
	for _, r := range rep.Rows {
		want := map[string]Verdict{"BenchmarkA-2": Regressed, "BenchmarkB-2": Unchanged}[r.Name]
		if r.Verdict != want || !r.Paired || r.NPairs != 12 {
			t.Errorf("%s: %v paired %v n %d, want %v, paired, 12", r.Name, r.Verdict, r.Paired, r.NPairs, want)
		}
		if r.Name == "BenchmarkA-2" && math.Abs(r.Cost-0.1) > 0.01 {
			t.Errorf("A: cost %g, want the median pair ratio ≈ +10 %%", r.Cost)
		}
	}
	// A/A with the drift: pass.
	aa := results("", 12, func(j, i int) float64 { return 1000 * drift(i) * jit(j+1, i) }, "BenchmarkA", "BenchmarkB")
	if rep, err := compare(t, old, aa, Options{Paired: true}); err != nil || rep.Outcome != Pass {
		t.Errorf("paired A/A: %v, %v; want pass", rep, err)
	}
	// Unequal counts cannot be paired.
	short := results("", 11, func(j, i int) float64 { return 1000 }, "BenchmarkA", "BenchmarkB")
	var pe *PairingError
	if _, err := compare(t, old, short, Options{Paired: true}); !errors.As(err, &pe) || !strings.Contains(err.Error(), "12 samples in OLD") {
		t.Errorf("unequal counts: %v, want a PairingError naming the counts", err)
	}
	// Too few pairs for Holm over 2: 2/2^6 = 0.031 > 0.025.
	six := results("", 6, func(j, i int) float64 { return 1000 * drift(i) }, "BenchmarkA", "BenchmarkB")
	var tf *TooFewError
	if _, err := compare(t, six, six, Options{Paired: true}); !errors.As(err, &tf) {
		t.Errorf("6 pairs, 2 tests: %v, want TooFewError", err)
	}
}

// Screen makes uncertain rows suspects; Family pads the Holm family; the
// extension decides.
func TestScreenAndFamily(t *testing.T) {
	old := results("", 10, func(j, i int) float64 { return 1000 + 10*float64(i) }, "BenchmarkA", "BenchmarkB")
	// A is 3 % slower in 6 of 10 pairs and 1 % faster in 4: uncertain
	// (p ≈ 0.08, Holm over 2: ≈ 0.16), not significant.
	new := results("", 10, func(j, i int) float64 {
		f := 1.0
		if j == 0 {
			f = 1.03
			if i%3 == 0 {
				f = 0.99
			}
		}
		return (1000 + 10*float64(i)) * f
	}, "BenchmarkA", "BenchmarkB")
	rep, err := compare(t, old, new, Options{Paired: true, Screen: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != Pass {
		t.Fatalf("first look: %v, want pass (it never fails alone on a screened row)", rep.Outcome)
	}
	if got := rep.Suspects(); len(got) != 1 || got[0] != "BenchmarkA-2" {
		t.Fatalf("suspects %v, want [BenchmarkA-2]", got)
	}
	if _, err := compare(t, old, new, Options{Paired: true, Screen: 0.01}); err == nil {
		t.Error("screen below alpha accepted")
	}
	// Extension of A only, 20 pairs, clearly slower; Holm over the first
	// family (2): p_Holm = 2·p.
	oldA := results("", 20, func(j, i int) float64 { return 1000 + 10*float64(i) }, "BenchmarkA")
	newA := results("", 20, func(j, i int) float64 { return (1000 + 10*float64(i)) * 1.06 }, "BenchmarkA")
	ext, err := compare(t, oldA, newA, Options{Paired: true, Family: 2})
	if err != nil {
		t.Fatal(err)
	}
	if ext.Family != 2 || ext.Rows[0].PHolm != math.Min(1, 2*ext.Rows[0].P) {
		t.Errorf("family %d, p %g, p_Holm %g: want family 2 and p_Holm = 2p", ext.Family, ext.Rows[0].P, ext.Rows[0].PHolm)
	}
	rep.Confirm(ext)
	if rep.Outcome != Regression {
		t.Errorf("after the extension: %v, want regression", rep.Outcome)
	}
	for _, r := range rep.Rows {
		want := map[string]Verdict{"BenchmarkA-2": Regressed, "BenchmarkB-2": Unchanged}[r.Name]
		if r.Verdict != want {
			t.Errorf("%s: %v, want %v", r.Name, r.Verdict, want)
		}
	}
}

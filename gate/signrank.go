package gate

import (
	"math"
	"sort"
)

// SignedRank is the two-sided Wilcoxon signed-rank test of the paired
// differences d (here: log(new/old) of the two runs of one interleaved
// pair). Zero differences are dropped (Wilcoxon's rule). With no ties among
// the |d| and at most maxExact non-zero pairs the p-value is exact (the
// 2^n equally likely sign patterns under the null hypothesis, counted by
// dynamic programming over the rank sums); otherwise it is the normal
// approximation with the tie correction of the variance and a continuity
// correction. It returns p, the number of non-zero pairs used, and whether
// the p is exact.
func SignedRank(d []float64) (p float64, n int, exact bool) {
	type ar struct{ abs, sign float64 }
	var a []ar
	for _, x := range d {
		switch {
		case x > 0:
			a = append(a, ar{x, 1})
		case x < 0:
			a = append(a, ar{-x, -1})
		}
	}
	n = len(a)
	if n == 0 {
		return 1, 0, true
	}
	sort.Slice(a, func(i, j int) bool { return a[i].abs < a[j].abs })
	// Midranks; tie groups for the variance correction.
	ranks := make([]float64, n)
	ties := false
	tieCorr := 0.0
	for i := 0; i < n; {
		j := i + 1
		for j < n && a[j].abs == a[i].abs {
			j++
		}
		r := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			ranks[k] = r
		}
		if t := float64(j - i); t > 1 {
			ties = true
			tieCorr += t*t*t - t
		}
		i = j
	}
	wPlus := 0.0
	for i := range a {
		if a[i].sign > 0 {
			wPlus += ranks[i]
		}
	}
	total := float64(n*(n+1)) / 2
	small := math.Min(wPlus, total-wPlus)
	if !ties && n <= maxExact {
		// counts[s] = number of subsets of {1..n} with sum s.
		max := n * (n + 1) / 2
		counts := make([]float64, max+1)
		counts[0] = 1
		for k := 1; k <= n; k++ {
			for s := max; s >= k; s-- {
				counts[s] += counts[s-k]
			}
		}
		le := 0.0
		for s := 0; s <= int(small); s++ {
			le += counts[s]
		}
		return math.Min(1, 2*le/math.Exp2(float64(n))), n, true
	}
	mean := total / 2
	variance := float64(n*(n+1)*(2*n+1))/24 - tieCorr/48
	if variance <= 0 {
		return 1, n, false
	}
	z := (mean - small - 0.5) / math.Sqrt(variance)
	if z < 0 {
		return 1, n, false
	}
	return math.Min(1, math.Erfc(z/math.Sqrt2)), n, false
}

// maxExact bounds the exact signed-rank distribution (2^n stays exact in
// a float64 up to n = 53; the rank-sum counts up to C(n, n/2) do too for n
// well past this).
const maxExact = 50

// MinPairedPValue is the smallest two-sided p-value the signed-rank test
// can give on n pairs: every difference of one sign, 2/2^n.
func MinPairedPValue(n int) float64 {
	if n <= 0 {
		return 1
	}
	return math.Min(1, 2/math.Exp2(float64(n)))
}

// MinPairs is the smallest n with MinPairedPValue(n) ≤ level.
func MinPairs(level float64) int {
	n := 1
	for MinPairedPValue(n) > level && n < 1000 {
		n++
	}
	return n
}

// median returns the median of x (x is reordered).
func median(x []float64) float64 {
	sort.Float64s(x)
	m := len(x) / 2
	if len(x)%2 == 1 {
		return x[m]
	}
	return (x[m-1] + x[m]) / 2
}

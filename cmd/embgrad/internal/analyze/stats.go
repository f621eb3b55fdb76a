package analyze

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// LoadIDs reads a user's token ids: decimal integers separated by
// whitespace (any number per line), lines starting with '#' ignored. Ids
// must lie in [0, V) when V > 0 (else in [0, 2³¹)). An error names the file,
// the line and the offending text.
func LoadIDs(path string, V int) ([]int32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readIDs(f, path, V)
}

func readIDs(r io.Reader, name string, V int) ([]int32, error) {
	var ids []int32
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		for _, w := range strings.Fields(text) {
			v, err := strconv.ParseInt(w, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %q is not a token id (a decimal integer)", name, line, w)
			}
			if v < 0 || V > 0 && v >= int64(V) {
				lim := int64(math.MaxInt32)
				if V > 0 {
					lim = int64(V)
				}
				return nil, fmt.Errorf("%s:%d: token id %d outside [0, %d)", name, line, v, lim)
			}
			ids = append(ids, int32(v))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", name, line+1, err)
	}
	if len(ids) < 2 {
		return nil, fmt.Errorf("%s: %d token ids, want at least 2 (an input and the next token)", name, len(ids))
	}
	return ids, nil
}

// counts is how often each of V rows occurs in ids.
func counts(V int, ids []int32) []int {
	c := make([]int, V)
	for _, id := range ids {
		c[id]++
	}
	return c
}

// Gini is the Gini coefficient of non-negative x: 0 when all are equal,
// near 1 when one holds everything. It uses the sorted form
// G = Σ (2i − n − 1)·x₍ᵢ₎ / (n·Σx), i = 1…n, which equals the mean absolute
// difference over twice the mean. 0 for an empty or all-zero x.
func Gini(x []float64) float64 {
	s := slices.Sorted(slices.Values(x))
	n := float64(len(s))
	var num, sum float64
	for i, v := range s {
		num += (2*float64(i+1) - n - 1) * v
		sum += v
	}
	if sum == 0 {
		return 0
	}
	return num / (n * sum)
}

// Fit is the least-squares line through (log10 x, log10 y) over the pairs
// with x > 0 and y > 0: y ≈ 10^Intercept · x^Slope. N is the pairs used.
type Fit struct {
	Slope, Intercept float64
	N                int
}

// LogLogFit fits y against x on log-log axes.
func LogLogFit(x, y []float64) Fit {
	var sx, sy, sxx, sxy float64
	n := 0
	for i := range x {
		if x[i] > 0 && y[i] > 0 {
			a, b := math.Log10(x[i]), math.Log10(y[i])
			sx += a
			sy += b
			sxx += a * a
			sxy += a * b
			n++
		}
	}
	f := Fit{N: n, Slope: math.NaN(), Intercept: math.NaN()}
	if n < 2 {
		return f
	}
	d := float64(n)*sxx - sx*sx
	if d == 0 {
		return f
	}
	f.Slope = (float64(n)*sxy - sx*sy) / d
	f.Intercept = (sy - f.Slope*sx) / float64(n)
	return f
}

// Touched is the number of distinct ids in each consecutive batch of size
// B of ids (the last, partial batch left out unless it is the only one).
func Touched(V int, ids []int32, B int) []int {
	seen := make([]int, V) // batch index + 1 that last saw the row
	var out []int
	for lo := 0; lo < len(ids); lo += B {
		hi := lo + B
		if hi > len(ids) {
			if lo > 0 {
				break
			}
			hi = len(ids)
		}
		n := 0
		for _, id := range ids[lo:hi] {
			if seen[id] != lo/B+1 {
				seen[id] = lo/B + 1
				n++
			}
		}
		out = append(out, n)
	}
	return out
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(x))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mean(x []int) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(max(len(x), 1))
}

package analyze

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/embgrad/embgrad/reference"
)

// section returns the lines of the report's section for stream name.
func section(t *testing.T, md, name string) []string {
	t.Helper()
	start := strings.Index(md, "## Stream `"+name+"`")
	if start < 0 {
		t.Fatalf("no section for stream %s", name)
	}
	rest := md[start+1:]
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return strings.Split(rest, "\n")
}

// figures reads the "| key | value |" rows of a section, the value's first
// field as a number.
func figures(t *testing.T, lines []string) map[string]float64 {
	t.Helper()
	f := map[string]float64{}
	for _, l := range lines {
		cells := strings.Split(strings.Trim(l, "|"), "|")
		if len(cells) != 2 {
			continue
		}
		key := strings.TrimSpace(cells[0])
		v, err := strconv.ParseFloat(strings.Fields(strings.TrimSpace(cells[1]) + " x")[0], 64)
		if err == nil {
			f[key] = v
		}
	}
	return f
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))) {
		t.Errorf("%s: report says %v, computed independently %v (tolerance %v)", what, got, want, tol)
	}
}

// giniPairs is the Gini coefficient from its definition: the mean absolute
// difference over all pairs, over twice the mean.
func giniPairs(x []float64) float64 {
	var d, s float64
	for _, a := range x {
		s += a
		for _, b := range x {
			d += math.Abs(a - b)
		}
	}
	n := float64(len(x))
	return d / (2 * n * n * (s / n))
}

// slopeOf fits log10 y on log10 x with gonum, over x, y > 0.
func slopeOf(x, y []float64) float64 {
	var lx, ly []float64
	for i := range x {
		if x[i] > 0 && y[i] > 0 {
			lx, ly = append(lx, math.Log10(x[i])), append(ly, math.Log10(y[i]))
		}
	}
	_, b := stat.LinearRegression(lx, ly, nil, false)
	return b
}

// TestReportFigures runs analyze on a small file of ids and checks the
// report's figures against values computed here by other means: counts and
// distinct rows with maps, the Gini coefficient from its pairwise
// definition, the gradients from reference.TiedModel.Grad (one pass over
// the whole batch, against analyze's chunked passes and float32 kernel),
// slopes with gonum's regression, and the SGD run stepped here.
func TestReportFigures(t *testing.T) {
	const V, N = 150, 2600
	rng := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(rng, 1.2, 2, V-1)
	ids := make([]int32, N)
	var file strings.Builder
	file.WriteString("# test ids\n")
	for i := range ids {
		ids[i] = int32(z.Uint64())
		fmt.Fprintf(&file, "%d", ids[i])
		if i%17 == 16 {
			file.WriteString("\n")
		} else {
			file.WriteString(" ")
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(path, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Config{Dir: dir, IDsFile: path, FileV: V, D: 4, GradTokens: 1500, Batch: 300, Steps: 2, SeqLen: 16,
		LR: 3, AdagradLR: 0.05, MaxNorm: 1, Seed: 9, Command: "test"}
	out, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, svg := range []string{"analyze-file-norm-vs-count.svg", "analyze-file-movement.svg", "analyze-file-rank.svg"} {
		if !strings.Contains(md, "]("+svg+")") {
			t.Errorf("report does not show %s", svg)
		}
		if _, err := os.Stat(filepath.Join(dir, svg)); err != nil {
			t.Error(err)
		}
	}
	sec := section(t, md, "file")
	f := figures(t, sec)

	// Counts.
	cnt := map[int32]int{}
	for _, id := range ids {
		cnt[id]++
	}
	all := make([]float64, V)
	var occ []float64
	for id, n := range cnt {
		all[id] = float64(n)
		occ = append(occ, float64(n))
	}
	near(t, KeyTokens, f[KeyTokens], N, 0)
	near(t, KeyDistinct, f[KeyDistinct], float64(len(cnt)), 0)
	near(t, KeyGiniAll, f[KeyGiniAll], giniPairs(all), 1e-4)
	near(t, KeyGiniOccur, f[KeyGiniOccur], giniPairs(occ), 1e-4)
	for _, B := range []int{512, 1024} {
		var sum float64
		nb := 0
		for lo := 0; lo+B <= N; lo += B {
			seen := map[int32]bool{}
			for _, id := range ids[lo : lo+B] {
				seen[id] = true
			}
			sum += float64(len(seen))
			nb++
		}
		key := fmt.Sprintf("%s %d", KeyTouchedShare, B)
		near(t, key, f[key], sum/float64(nb)/V, 1e-4)
	}
	// The most frequent token is first in its table.
	top := slices.MaxFunc(slices.Collect(func(yield func(int32) bool) {
		for id := range cnt {
			if !yield(id) {
				return
			}
		}
	}), func(a, b int32) int {
		if cnt[a] != cnt[b] {
			return cnt[a] - cnt[b]
		}
		return int(b - a) // ties: the smaller id first
	})
	if want := fmt.Sprintf("| 1 | %d | %d |", top, cnt[top]); !strings.Contains(strings.Join(sec, "\n"), want) {
		t.Errorf("top-token table lacks %q", want)
	}

	// The gradient, from the reference model on the same compact vocabulary.
	region := max(c.GradTokens, c.Steps*c.Batch) + 1
	distinct := slices.Compact(slices.Sorted(slices.Values(slices.Clone(ids[:min(2*region, N)]))))
	near(t, KeyVPrime, f[KeyVPrime], float64(len(distinct)), 0)
	local := make([]int32, region)
	for i, id := range ids[:region] {
		k, _ := slices.BinarySearch(distinct, id)
		local[i] = int32(k)
	}
	Vp, D := len(distinct), c.D
	m, E, P := reference.NewTiedModel(rand.New(rand.NewPCG(c.Seed, modelStream)), Vp, D, c.SeqLen, false)
	batch := func(lo, hi int) reference.TiedBatch {
		b := reference.TiedBatch{IDs: local[lo:hi], Targets: local[lo+1 : hi+1]}
		for i := lo; i < hi; i++ {
			b.Pos = append(b.Pos, int32(i%c.SeqLen))
		}
		return b
	}
	gb := batch(0, c.GradTokens)
	r := m.Pass(E, P, gb)
	near(t, KeyLoss, f[KeyLoss], r.Loss, 1e-4)
	bc := make([]float64, Vp)
	for _, id := range gb.IDs {
		bc[id]++
	}
	lookup := make([]float64, Vp*D)
	for i, id := range gb.IDs {
		for j := range D {
			lookup[int(id)*D+j] += r.DY[i*D+j]
		}
	}
	normsOf := func(x []float64, div []float64) []float64 {
		n := make([]float64, Vp)
		for v := range n {
			var s float64
			for _, e := range x[v*D : (v+1)*D] {
				s += e * e
			}
			n[v] = math.Sqrt(s)
			if div != nil && div[v] > 0 {
				n[v] /= div[v]
			}
		}
		return n
	}
	dE, dP := m.Grad(E, P, gb)
	near(t, KeySlopeLookup, f[KeySlopeLookup], slopeOf(bc, normsOf(lookup, nil)), 2e-4)
	near(t, KeySlopeScaled, f[KeySlopeScaled], slopeOf(bc, normsOf(lookup, bc)), 2e-4)
	near(t, KeySlopeTied, f[KeySlopeTied], slopeOf(bc, normsOf(dE, nil)), 2e-4)
	var sE, sP float64
	for _, x := range dE {
		sE += x * x
	}
	for _, x := range dP {
		sP += x * x
	}
	near(t, "‖∂L/∂E‖", f["‖∂L/∂E‖ (tied, unscaled)"], math.Sqrt(sE), 1e-5)
	near(t, "total 2-norm", f["total 2-norm (clip_grad_norm_'s)"], math.Sqrt(sE+sP), 1e-5)

	// SGD: the median relative change of the rows that occur once in the
	// steps' inputs, stepped here with the reference gradient.
	E1, P1 := slices.Clone(E), slices.Clone(P)
	sc := make([]int, Vp)
	for s := range c.Steps {
		b := batch(s*c.Batch, (s+1)*c.Batch)
		for _, id := range b.IDs {
			sc[id]++
		}
		gE, gP := m.Grad(E1, P1, b)
		for k := range E1 {
			E1[k] -= c.LR * gE[k]
		}
		for k := range P1 {
			P1[k] -= c.LR * gP[k]
		}
	}
	var rel []float64
	for v := range Vp {
		if sc[v] == 1 {
			var d, a float64
			for j := range D {
				d += (E1[v*D+j] - E[v*D+j]) * (E1[v*D+j] - E[v*D+j])
				a += E[v*D+j] * E[v*D+j]
			}
			rel = append(rel, math.Sqrt(d/a))
		}
	}
	slices.Sort(rel)
	want := rel[len(rel)/2]
	if len(rel)%2 == 0 {
		want = (rel[len(rel)/2-1] + rel[len(rel)/2]) / 2
	}
	var got float64
	for _, l := range sec {
		if strings.HasPrefix(l, "| SGD | ") && strings.Contains(l, "| count 1 |") {
			cells := strings.Split(strings.Trim(l, "|"), "|")
			got, _ = strconv.ParseFloat(strings.TrimSpace(cells[len(cells)-1]), 64)
		}
	}
	near(t, "SGD median relative change, count 1", got, want, 2e-3)
}

func TestLoadIDsErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"1 2 3\n4 x 5\n", "ids.txt:2: \"x\" is not a token id"},
		{"# comment\n\n1 2\n3 -1\n", "ids.txt:4: token id -1 outside"},
		{"1 2\n9\n", "ids.txt:2: token id 9 outside [0, 5)"},
		{"1 99999999999\n", "ids.txt:1: \"99999999999\" is not a token id"},
		{"# nothing\n3\n", "ids.txt: 1 token ids, want at least 2"},
	} {
		_, err := readIDs(strings.NewReader(c.text), "ids.txt", 5)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.text, err, c.want)
		}
	}
}

func TestGini(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		x := make([]float64, 1+rng.IntN(30))
		for i := range x {
			x[i] = math.Floor(rng.ExpFloat64() * 10)
		}
		if slices.Max(x) == 0 {
			continue
		}
		if g, w := Gini(x), giniPairs(x); math.Abs(g-w) > 1e-12 {
			t.Errorf("Gini(%v) = %v, pairwise definition %v", x, g, w)
		}
	}
	if g := Gini([]float64{5, 5, 5}); g != 0 {
		t.Errorf("Gini of equal values = %v", g)
	}
}

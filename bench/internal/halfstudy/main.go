// Command halfstudy measures the error of 16-bit embedding-backward kernels
// against the exact (float64) gradient as a function of how often a row is
// named, and writes results/half/ERROR.md and results/half/error.svg:
//
//	go run ./bench/internal/halfstudy -out results/half
//
// Kernels: registry.Half() into a 16-bit dst (nearest even and stochastic)
// and into a float32 dst, a kernel that accumulates in 16 bits
// (internal/broken's accumulates-in-16-bits), and PyTorch's CPU
// aten.embedding_dense_backward in bfloat16/float16 (bench/peers/
// half_error.py, run with -python; skipped with a note when torch does not
// import). One row is named c times (c = 1 … 10⁴) with D = 256 columns of
// gradOut drawn uniform in [0, 1) (the row's sum grows, as a frequent
// token's gradient does when its terms share a sign) and rounded to the
// format; the error of a column is |got − exact|, averaged over the
// columns, and shown relative to the error of one final rounding of the
// exact sum (round(exact) − exact), the target of a 16-bit dst. A second
// set of tables draws gradOut standard normal (mixed signs).
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/reference"
)

const D = 256

var counts = []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1700, 2000, 5000, 10000}

type input struct {
	dist  string
	f     embgrad.Format
	c     int
	ids   []int32
	g     []uint16
	exact []float64 // per column
}

func newInput(dist string, f embgrad.Format, c int) *input {
	rng := rand.New(rand.NewPCG(uint64(f)+hashDist(dist), uint64(c)))
	in := &input{dist: dist, f: f, c: c, ids: make([]int32, c), g: make([]uint16, c*D), exact: make([]float64, D)}
	for k := range in.g {
		x := float32(rng.Float64())
		if dist == "normal" {
			x = float32(rng.NormFloat64())
		}
		if f == embgrad.Float16 {
			in.g[k] = uint16(half.Float16FromFloat32(x))
		} else {
			in.g[k] = uint16(half.BFloat16FromFloat32(x))
		}
		in.exact[k%D] += float64(reference.Widen1(f, in.g[k]))
	}
	return in
}

// meanErr is the mean over columns of |got − exact|.
func (in *input) meanErr(got []float32) float64 {
	s := 0.0
	for j, x := range got {
		s += math.Abs(float64(x) - in.exact[j])
	}
	return s / D
}

// oneRounding is got for a perfect 16-bit result: round(exact).
func (in *input) oneRounding() []float32 {
	r := make([]float32, D)
	for j, e := range in.exact {
		r[j] = reference.Widen1(in.f, narrow1(in.f, float32(e)))
	}
	return r
}

func narrow1(f embgrad.Format, x float32) uint16 {
	if f == embgrad.Float16 {
		return uint16(half.Float16FromFloat32(x))
	}
	return uint16(half.BFloat16FromFloat32(x))
}

func run16(k embgrad.Half16Kernel, in *input, rnd embgrad.Rounding) []float32 {
	dst := make([]uint16, D)
	if err := k.BackwardHalf16(dst, 1, D, in.ids, in.g, embgrad.HalfOptions{Format: in.f, Rounding: rnd, Seed: 42}); err != nil {
		panic(err)
	}
	return reference.Widen(in.f, dst)
}

func run32(k embgrad.HalfKernel, in *input) []float32 {
	dst := make([]float32, D)
	if err := k.BackwardHalf(dst, 1, D, in.ids, in.g, embgrad.HalfOptions{Format: in.f}); err != nil {
		panic(err)
	}
	return dst
}

// torch runs bench/peers/half_error.py on every input and returns its
// results by (format, count), or nil and why not.
type inKey struct {
	dist string
	f    embgrad.Format
	c    int
}

func key(in *input) inKey { return inKey{in.dist, in.f, in.c} }

func hashDist(d string) uint64 {
	if d == "normal" {
		return 1 << 32
	}
	return 0
}

func torch(python, script string, ins []*input) (map[inKey][]float32, string) {
	if python == "" {
		return nil, "not run (-python empty)"
	}
	dir, err := os.MkdirTemp("", "halfstudy")
	if err != nil {
		return nil, err.Error()
	}
	defer os.RemoveAll(dir)
	name := func(in *input) string { return fmt.Sprintf("%s-%v-%d", in.dist, in.f, in.c) }
	for _, in := range ins {
		meta, _ := json.Marshal(map[string]any{"format": in.f.String(), "V": 1, "D": D, "N": in.c})
		ids := make([]int64, len(in.ids))
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, ids)
		var g bytes.Buffer
		binary.Write(&g, binary.LittleEndian, in.g)
		for ext, data := range map[string][]byte{".json": meta, ".ids": b.Bytes(), ".grad": g.Bytes()} {
			if err := os.WriteFile(filepath.Join(dir, name(in)+ext), data, 0o644); err != nil {
				return nil, err.Error()
			}
		}
	}
	out, err := exec.Command(python, script, dir).CombinedOutput()
	if err != nil {
		return nil, fmt.Sprintf("not run: %s %s: %v: %s", python, script, err, strings.TrimSpace(string(out)))
	}
	res := map[inKey][]float32{}
	for _, in := range ins {
		data, err := os.ReadFile(filepath.Join(dir, name(in)+".torch"))
		if err != nil || len(data) != 2*D {
			return nil, fmt.Sprintf("bad torch output for %s: %v", name(in), err)
		}
		h := make([]uint16, D)
		binary.Read(bytes.NewReader(data), binary.LittleEndian, h)
		res[key(in)] = reference.Widen(in.f, h)
	}
	return res, strings.TrimSpace(string(out))
}

type series struct {
	dist string
	name string
	f    embgrad.Format
	errs []float64 // mean error per count
}

func main() {
	out := flag.String("out", "results/half", "directory for ERROR.md and error.svg")
	python := flag.String("python", "/usr/bin/python3", "Python with torch for the PyTorch peer (empty: skip)")
	script := flag.String("script", "bench/peers/half_error.py", "the peer script")
	flag.Parse()

	dists := []string{"uniform", "normal"}
	var ins []*input
	for _, d := range dists {
		for _, f := range []embgrad.Format{embgrad.BFloat16, embgrad.Float16} {
			for _, c := range counts {
				ins = append(ins, newInput(d, f, c))
			}
		}
	}
	tr, trNote := torch(*python, *script, ins)
	var acc16 embgrad.Half16Kernel
	for _, k := range broken.FaultyHalf() {
		if k.Name() == "accumulates-in-16-bits" {
			acc16 = k
		}
	}
	fast := registry.Half()[len(registry.Half())-1]

	var all []*series
	var md strings.Builder
	fmt.Fprintf(&md, "# 16-bit gradients: error against the exact sum\n\n")
	fmt.Fprintf(&md, "Generated by `go run ./bench/internal/halfstudy -out results/half` (torch: %s).\n\n", trNote)
	fmt.Fprintf(&md, "One row named c times, D = %d columns, gradOut drawn uniform in [0, 1) (terms of one sign: the row's sum grows) or standard normal (signs mixed: a random walk), rounded to the format. Each cell is the mean over columns of |got − exact| divided by the mean error of one final rounding of the exact sum (|round(exact) − exact|): 1 is a perfectly rounded 16-bit result. At c = 1 a single value is exact and every 16-bit kernel gives it exactly (0 error, ratio shown as the error itself: 0). `max/bound` is the largest column error of %s (16-bit dst, nearest even) over its bound (reference.Half16Result: ½ ulp + the float32 summation bound); ≤ 1 means within.\n\n", D, fast.Name())
	for _, dist := range dists {
		for _, f := range []embgrad.Format{embgrad.BFloat16, embgrad.Float16} {
			cols := []string{fast.Name() + " →16 rne", fast.Name() + " →16 stochastic", fast.Name() + " →f32", "16-bit accumulation"}
			if tr != nil {
				cols = append(cols, "torch "+f.String())
			}
			ss := make([]*series, len(cols))
			for i, c := range cols {
				ss[i] = &series{name: c + " (" + f.String() + ")", f: f, dist: dist}
			}
			fmt.Fprintf(&md, "## %s, %v\n\n| c | one rounding (abs) | %s | max/bound |\n|---|---|%s---|\n", dist, f, strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
			for _, in := range ins {
				if in.f != f || in.dist != dist {
					continue
				}
				base := in.meanErr(in.oneRounding())
				gots := [][]float32{run16(fast, in, embgrad.NearestEven), run16(fast, in, embgrad.Stochastic), run32(fast, in), run16(acc16, in, embgrad.NearestEven)}
				if tr != nil {
					gots = append(gots, tr[key(in)])
				}
				cells := make([]string, len(gots))
				for i, g := range gots {
					e := in.meanErr(g)
					ss[i].errs = append(ss[i].errs, e)
					if base == 0 {
						cells[i] = fmt.Sprintf("%.3g", e)
					} else {
						cells[i] = fmt.Sprintf("%.3g", e/base)
					}
				}
				fmt.Fprintf(&md, "| %d | %.3g | %s | %.3g |\n", in.c, base, strings.Join(cells, " | "), maxOverBound(fast, in))
			}
			md.WriteString("\n")
			all = append(all, ss...)
		}
	}
	md.WriteString("Plots: `error-uniform.svg` and `error-normal.svg` (mean |got − exact| against c, log-log; points with zero error left out).\n")
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "ERROR.md"), []byte(md.String()), 0o644); err != nil {
		fail(err)
	}
	for _, dist := range dists {
		var these []*series
		for _, s := range all {
			if s.dist == dist {
				these = append(these, s)
			}
		}
		svg, err := plotErrors(dist, these)
		if err != nil {
			fail(err)
		}
		if err := os.WriteFile(filepath.Join(*out, "error-"+dist+".svg"), svg, 0o644); err != nil {
			fail(err)
		}
	}
	fmt.Print(md.String())
}

// maxOverBound is the largest column error of k (16-bit dst, nearest even)
// over reference's bound for it.
func maxOverBound(k embgrad.Half16Kernel, in *input) float64 {
	opt := embgrad.HalfOptions{Format: in.f}
	want, err := reference.Half16Oracle(make([]uint16, D), 1, D, in.ids, in.g, opt)
	if err != nil {
		panic(err)
	}
	got := run16(k, in, embgrad.NearestEven)
	m := 0.0
	for j, x := range got {
		e, b := math.Abs(float64(x)-want.R.Want[j]), want.Bound(j)
		if b == 0 {
			if e != 0 {
				return math.Inf(1)
			}
			continue
		}
		m = math.Max(m, e/b)
	}
	return m
}

func plotErrors(dist string, all []*series) ([]byte, error) {
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	p := plot.New()
	p.Title.Text = "16-bit embedding backward: error vs exact, one row named c times (" + dist + " gradOut)"
	p.X.Label.Text = "c (times the row is named)"
	p.Y.Label.Text = "mean |got − exact| over 256 columns"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	for i, s := range all {
		var pts plotter.XYs
		for n, e := range s.errs {
			if e > 0 {
				pts = append(pts, plotter.XY{X: float64(counts[n]), Y: e})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i % 5)
		sc.Color = l.Color
		sc.Shape = plotutil.Shape(i % 5)
		if s.f == embgrad.Float16 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l, sc)
		p.Legend.Add(s.name, l, sc)
	}
	wt, err := p.WriterTo(8*vg.Inch, 6*vg.Inch, "svg")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "halfstudy:", err)
	os.Exit(1)
}

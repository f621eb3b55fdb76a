package report

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"

	"golang.org/x/perf/benchunit"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/embgrad/embgrad/bench"
)

// label names a kernel at a worker count in plots.
func label(c bwCell) string {
	if c.workers > 1 || c.impl == "" {
		return fmt.Sprintf("%s w=%d", c.impl, c.workers)
	}
	return c.impl
}

// groupedBars draws one bar group per x label and one bar per series,
// with a legend.
func groupedBars(title, ylabel string, ticks plot.Ticker, xs []string, series []string, value func(x, s string) (float64, bool)) ([]byte, error) {
	p := newPlot(title)
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = false
	width := vg.Points(math.Max(4, math.Min(14, 400/float64(len(xs)*(len(series)+1)))))
	// plotutil's palette has 7 colours; with peers there are more series,
	// and a repeated colour would make two bars indistinguishable.
	colors := plotutil.DefaultColors
	if len(series) > len(colors) {
		colors = palette.Rainbow(len(series), palette.Red, palette.Magenta, 0.75, 0.85, 1).Colors()
	}
	for i, s := range series {
		vals := make(plotter.Values, len(xs))
		for j, x := range xs {
			vals[j], _ = value(x, s)
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.LineStyle.Width = 0
		bars.Color = colors[i%len(colors)]
		bars.Offset = width * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		p.Legend.Add(s, bars)
	}
	p.NominalX(xs...)
	p.Add(plotter.NewGrid())
	top := 0.0
	for _, x := range xs {
		for _, s := range series {
			v, _ := value(x, s)
			top = max(top, v)
		}
	}
	p.Y.Min, p.Y.Max = 0, top*(1.1+0.07*float64(len(series))) // room for the legend
	p.Y.Tick.Marker = ticks
	return render(p, vg.Length(max(480, float64(width)*float64(len(xs)*(len(series)+2))+100)), 320)
}

// newPlot returns a plot in Liberation Sans, which is metric-compatible
// with Arial and Helvetica: the SVGs name those as fallbacks (see render),
// so text laid out with Liberation's metrics fits wherever it is viewed.
func newPlot(title string) *plot.Plot {
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	p := plot.New()
	p.Title.Text = title
	return p
}

func render(p *plot.Plot, wid, ht vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(wid, ht, "svg")
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

// throughputPlot draws tokens/s by distribution, a bar per kernel and
// worker count.
func throughputPlot(title string, tc []bwCell) ([]byte, error) {
	var dists, series []string
	for _, c := range tc {
		dists = appendNew(dists, c.dist)
		series = appendNew(series, label(c))
	}
	return groupedBars(title, "tokens/s (median)", siTicks, dists, series, func(x, s string) (float64, bool) {
		for _, c := range tc {
			if c.dist == x && label(c) == s {
				return median(c.tokensPerSec()), true
			}
		}
		return 0, false
	})
}

// plotDist is the distribution of the summary plots: Zipf, the natural
// skew of token frequencies, when present ("" without BenchmarkBackward
// results: a tied-only run has none).
func plotDist(cells []bwCell) string {
	if slices.ContainsFunc(cells, func(c bwCell) bool { return c.dist == string(bench.Zipf) }) {
		return string(bench.Zipf)
	}
	if len(cells) == 0 {
		return ""
	}
	return cells[0].dist
}

// scalingPlots draws tokens/s against workers, a line per kernel and mode,
// one plot per shape, for kernels measured at more than one worker count.
func scalingPlots(cells []bwCell) ([]svg, error) {
	if len(cells) == 0 {
		return nil, nil
	}
	dist := plotDist(cells)
	var shapes []string
	for _, c := range cells {
		shapes = appendNew(shapes, c.shape)
	}
	var out []svg
	for _, shape := range shapes {
		lines := map[string]plotter.XYs{}
		var names []string
		for _, c := range cells {
			if c.shape != shape || c.dist != dist {
				continue
			}
			name := c.impl + " " + c.mode
			if _, ok := lines[name]; !ok {
				names = append(names, name)
			}
			lines[name] = append(lines[name], plotter.XY{X: float64(c.workers), Y: median(c.tokensPerSec())})
		}
		p := newPlot(fmt.Sprintf("%s, %s: tokens/s by workers", shape, dist))
		p.X.Label.Text = "workers"
		p.Y.Label.Text = "tokens/s (median)"
		p.Legend.Top = true
		n := 0
		for _, name := range names {
			xy := lines[name]
			if len(xy) < 2 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, err
			}
			l.Color, pts.Color = plotutil.Color(n), plotutil.Color(n)
			l.Dashes = plotutil.Dashes(n)
			pts.Shape = plotutil.Shape(n)
			p.Add(l, pts)
			p.Legend.Add(name, l, pts)
			n++
		}
		if n == 0 {
			continue
		}
		top := 0.0
		for _, xy := range lines {
			for _, pt := range xy {
				top = max(top, pt.Y)
			}
		}
		p.Y.Min, p.Y.Max = 0, top*(1.1+0.07*float64(n)) // room for the legend
		p.Add(plotter.NewGrid())
		p.X.Tick.Marker = integerTicks{}
		p.Y.Tick.Marker = siTicks
		data, err := render(p, 420, 300)
		if err != nil {
			return nil, err
		}
		out = append(out, svg{fmt.Sprintf("scaling-%s.svg", shape), data})
	}
	return out, nil
}

// relabel marks an axis with plot's default ticks, labelled by itself.
type relabel func(float64) string

func (f relabel) Ticks(lo, hi float64) []plot.Tick {
	t := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range t {
		if t[i].Label != "" {
			t[i].Label = f(t[i].Value)
		}
	}
	return t
}

var (
	// siTicks labels with SI prefixes (1.5M rather than 1500000).
	siTicks = relabel(func(v float64) string {
		if v == 0 {
			return "0"
		}
		return benchunit.Scale(v, benchunit.Decimal)
	})
	// pctTicks labels fractions in percent.
	pctTicks = relabel(func(v float64) string { return strconv.FormatFloat(100*v, 'g', 4, 64) + "%" })
)

// integerTicks marks whole numbers only (worker counts).
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for v := math.Ceil(lo); v <= hi; v++ {
		t = append(t, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return t
}

// rooflinePlots draws the fraction of the roofline per shape, a bar per
// kernel and worker count, one plot per mode.
func (d *Data) rooflinePlots(cells []bwCell) ([]svg, error) {
	dist := plotDist(cells)
	var modes []string
	for _, c := range cells {
		modes = appendNew(modes, c.mode)
	}
	var out []svg
	for _, mode := range modes {
		var shapes, series []string
		frac := map[[2]string]float64{}
		for _, c := range cells {
			if c.mode != mode || c.dist != dist {
				continue
			}
			f, ok := d.fraction(cells, c)
			if !ok {
				continue
			}
			shapes = appendNew(shapes, c.shape)
			series = appendNew(series, label(c))
			frac[[2]string{c.shape, label(c)}] = f
		}
		if len(shapes) == 0 {
			continue
		}
		data, err := groupedBars(fmt.Sprintf("%s, %s: fraction of the copy roofline", mode, dist),
			"B/s ÷ copy B/s", pctTicks, shapes, series, func(x, s string) (float64, bool) {
				f, ok := frac[[2]string{x, s}]
				return f, ok
			})
		if err != nil {
			return nil, err
		}
		out = append(out, svg{fmt.Sprintf("roofline-%s.svg", mode), data})
	}
	return out, nil
}

// appendNew appends v to list unless it is there already, keeping first-seen
// order (the order rows, columns and series appear in the results).
func appendNew[T comparable](list []T, v T) []T {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

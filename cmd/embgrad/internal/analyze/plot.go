package analyze

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// series is one set of points of a log-log scatter, with its fitted line.
type series struct {
	name string
	x, y []float64
	fit  Fit
}

var colors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

var plotMu sync.Mutex

// scatterSVG writes a log-log scatter of the series, each with its fitted
// line and its slope in the legend, to dir/name.
func scatterSVG(dir, name, title, xlabel, ylabel string, ss []series) error {
	// gonum/plot's default font is a package variable: one plot at a time.
	plotMu.Lock()
	defer plotMu.Unlock()
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, s := range ss {
		// Points that would land within 1/200 of a decade of one already
		// drawn are left out: they look the same and keep the SVG small.
		// The fit uses every point.
		var pts plotter.XYs
		type cell struct{ a, b int }
		seen := map[cell]bool{}
		lo, hi := math.Inf(1), math.Inf(-1)
		for k := range s.x {
			if s.x[k] > 0 && s.y[k] > 0 {
				c := cell{int(math.Round(200 * math.Log10(s.x[k]))), int(math.Round(200 * math.Log10(s.y[k])))}
				if seen[c] {
					continue
				}
				seen[c] = true
				pts = append(pts, plotter.XY{X: s.x[k], Y: s.y[k]})
				lo, hi = math.Min(lo, s.x[k]), math.Max(hi, s.x[k])
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color = colors[i%len(colors)]
		sc.GlyphStyle.Radius = vg.Points(1.5)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		label := s.name
		if !math.IsNaN(s.fit.Slope) && hi > lo {
			l, err := plotter.NewLine(plotter.XYs{
				{X: lo, Y: math.Pow(10, s.fit.Intercept) * math.Pow(lo, s.fit.Slope)},
				{X: hi, Y: math.Pow(10, s.fit.Intercept) * math.Pow(hi, s.fit.Slope)},
			})
			if err != nil {
				return err
			}
			l.Color = colors[i%len(colors)]
			l.Width = vg.Points(1.5)
			p.Add(l)
			label = fmt.Sprintf("%s (slope %.3f)", s.name, s.fit.Slope)
		}
		p.Legend.Add(label, sc)
	}
	wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "svg")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return err
	}
	out := bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	return os.WriteFile(filepath.Join(dir, name), out, 0o644)
}

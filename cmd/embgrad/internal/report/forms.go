package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/embgrad/embgrad/bench"
)

// The EmbeddingBag (BenchmarkBag) and 16-bit (BenchmarkBackward16)
// sections, in the style of the sparse one: a table per input (shape and
// distribution), a row per variant of the family, a column per impl, each
// cell the median time per call ± 95% CI, the roofline fraction where the
// family has a bytes model and the probe ran at the cell's thread count,
// and, after our cells, each torch peer's time over ours in the same row.

// formFamily is one family of the section and the keys that make its rows;
// the others (impl aside) make its tables.
type formFamily struct {
	name, title, intro string
	rowKeys            []string
}

var formFamilies = []formFamily{
	{bench.Bag, "EmbeddingBag backward (BenchmarkBag)", "mode is the pooling, dst accumulate or scratch, weights none or random per-sample weights; torch: torch-bag, EmbeddingBag's backward.",
		[]string{bench.KeyMode, bench.KeyDst, bench.KeyWeights, bench.KeyWorkers}},
	{bench.Backward16, "16-bit gradients (BenchmarkBackward16)", "dtype is gradOut's format, dst the gradient's (f32, or 16: the same 16-bit format); simd at dtype=f32 is the float32 yardstick; one worker.",
		[]string{bench.KeyDType, bench.KeyDst}},
}

// formsFilter excludes the section's families from the generic tables.
const formsFilter = " -.name:Bag -.name:Backward16"

// formCell is one result cell of a family.
type formCell struct {
	impl       string
	table, row string // the name's table and row parts, joined
	workers    int
	s          samples
}

// formData holds the section's families' cells in input order.
type formData struct {
	cells map[string][]*formCell // by family
	index map[string]*formCell   // by family, impl, table and row
}

func newFormData() *formData {
	return &formData{cells: map[string][]*formCell{}, index: map[string]*formCell{}}
}

func (f *formData) add(r *benchfmt.Result) {
	family := "Benchmark" + string(r.Name.Base())
	i := slices.IndexFunc(formFamilies, func(ff formFamily) bool { return ff.name == family })
	if i < 0 {
		return
	}
	_, parts := r.Name.Parts()
	var impl string
	var table, row []string
	workers := 1
	for _, p := range parts {
		if p[0] == '-' {
			continue
		}
		k, v, _ := strings.Cut(string(p[1:]), "=")
		switch {
		case k == bench.KeyImpl:
			impl = v
		case slices.Contains(formFamilies[i].rowKeys, k):
			row = append(row, k+"="+v)
			if k == bench.KeyWorkers {
				workers, _ = strconv.Atoi(v)
			}
		default:
			table = append(table, k+"="+v)
		}
	}
	c := &formCell{impl: impl, table: strings.Join(table, " "), row: strings.Join(row, " "), workers: max(workers, 1)}
	id := family + "\x00" + impl + "\x00" + c.table + "\x00" + c.row
	if o := f.index[id]; o != nil {
		c = o
	} else {
		c.s = samples{}
		f.index[id] = c
		f.cells[family] = append(f.cells[family], c)
	}
	for _, v := range r.Values {
		c.s[v.Unit] = append(c.s[v.Unit], v.Value)
	}
}

// writeForms writes the section of each family the inputs hold.
func (d *Data) writeForms(w *bytes.Buffer) {
	for _, fam := range formFamilies {
		cells := d.forms.cells[fam.name]
		if len(cells) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\nTime per call (median ± 95%% CI); %s **roof** is the B/s of the family's bytes model over the copy bandwidth at the cell's worker count (none without BenchmarkMemory at that count); **×r name** after one of our cells is the torch peer torch-name's median time over ours in the same row: above 1, ours is faster.\n", fam.title, fam.intro)
		var tables []string
		for _, c := range cells {
			tables = appendNew(tables, c.table)
		}
		for _, t := range tables {
			var impls, rows []string
			for _, c := range cells {
				if c.table == t {
					impls = appendNew(impls, c.impl)
					rows = appendNew(rows, c.row)
				}
			}
			slices.SortStableFunc(impls, func(a, b string) int { return boolInt(isPeer(a)) - boolInt(isPeer(b)) })
			fmt.Fprintf(w, "\n### %s\n\n| %s | %s |\n|---|%s\n", t, strings.Join(fam.rowKeys, ", "), strings.Join(impls, " | "), strings.Repeat("---|", len(impls)))
			for _, r := range rows {
				fmt.Fprintf(w, "| %s |", r)
				get := func(impl string) *formCell {
					return d.forms.index[fam.name+"\x00"+impl+"\x00"+t+"\x00"+r]
				}
				for _, impl := range impls {
					c := get(impl)
					if c == nil || len(c.s["sec/op"]) == 0 {
						w.WriteString(" |")
						continue
					}
					cell := fmtSummary(c.s["sec/op"], "sec/op")
					if b := c.s["B/s"]; len(b) > 0 {
						if roof, ok := d.copyAt(c.workers); ok {
							cell += fmt.Sprintf(" · roof %.0f%%", 100*median(b)/roof)
						}
					}
					if !isPeer(impl) {
						for _, p := range impls {
							if pc := get(p); isPeer(p) && pc != nil && len(pc.s["sec/op"]) > 0 {
								cell += " · ×" + fmtRatio(median(pc.s["sec/op"])/median(c.s["sec/op"])) + " " + strings.TrimPrefix(p, "torch-")
							}
						}
					}
					fmt.Fprintf(w, " %s |", cell)
				}
				w.WriteString("\n")
			}
		}
	}
}

// fmtRatio prints a ratio with three significant digits, never in
// exponent form.
func fmtRatio(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.3g", r)
}

package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/embgrad/embgrad/bench"
)

// The peers of mode=scratch: torch's dense backward, which allocates a
// fresh table per call (torch-dense, results/peers.txt), and the same call
// with the allocator keeping freed memory for the next (torch-dense-reuse,
// results/peers-reuse.txt). bench/peers/peers.py names them with
// BenchmarkBackward's keys and draws the ids as BenchmarkBackward does
// (bench.IDs(dist, V, N, bench.Seed)).
const (
	peerDense      = "torch-dense"
	peerDenseReuse = "torch-dense-reuse"
)

// writeScratch states our mode=scratch cells against the scratch roofline
// and torch's dense backward, with and without memory reuse, on the same
// shape, distribution and thread count.
func (d *Data) writeScratch(w *bytes.Buffer, cells []bwCell) {
	var scratch []bwCell
	for _, c := range cells {
		if c.mode == string(bench.Scratch) {
			scratch = append(scratch, c)
		}
	}
	if !slices.ContainsFunc(scratch, func(c bwCell) bool { return !isPeer(c.impl) }) {
		return
	}
	w.WriteString(`
## From scratch against the roofline and torch

mode=scratch clears the gradient and writes it from the batch. **roof** is
the fraction of the scratch roofline: the bytes model (gradOut and ids read,
the whole V×D table written once) over the copy bandwidth at the kernel's
worker count; **×r dense** and **×r reuse** are the median time per call of
torch-dense (torch's embedding dense backward, a fresh table per call) and
of torch-dense-reuse (the same with freed memory kept for the next call:
memory reuse) over ours, on the same shape, ids (bench.IDs(dist, V, N,
bench.Seed) on both sides) and thread count; above 1 ours is faster.
Target (issue 17): GPT-2 / Zipf at 2 workers ≥ 85% of the scratch roofline
and faster than torch-dense-reuse, both sides measured in the same session
(see the dates under Inputs).
`)
	for _, f := range d.files {
		if ids := f.config["peers-ids"]; ids != "" {
			fmt.Fprintf(w, "\n%s: peers-ids: %s\n", f.path, ids)
		}
	}
	has := func(impl string) bool {
		return slices.ContainsFunc(scratch, func(c bwCell) bool { return c.impl == impl })
	}
	for _, p := range []struct{ impl, ratio string }{{peerDense, "dense"}, {peerDenseReuse, "reuse"}} {
		if !has(p.impl) {
			fmt.Fprintf(w, "\nNo %s results at mode=scratch in the inputs (bench/peers/run.sh writes them): no ×r %s.\n", p.impl, p.ratio)
		}
	}
	var shapes, bare []string
	for _, c := range scratch {
		shapes = appendNew(shapes, c.shape)
	}
	for _, shape := range shapes {
		if !slices.ContainsFunc(scratch, func(c bwCell) bool { return c.shape == shape && (c.impl == peerDense || c.impl == peerDenseReuse) }) {
			bare = append(bare, shape)
			continue
		}
		var tc []bwCell
		var impls []string
		type rowID struct {
			dist    string
			workers int
		}
		var rows []rowID
		for _, c := range scratch {
			if c.shape != shape {
				continue
			}
			tc = append(tc, c)
			if !isPeer(c.impl) {
				impls = appendNew(impls, c.impl)
				if r := (rowID{c.dist, c.workers}); !slices.Contains(rows, r) {
					rows = append(rows, r)
				}
			}
		}
		if len(impls) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n### %s: V=%d, D=%d, N=%d, mode=scratch\n\n| dist | workers | %s | %s | %s |\n|---|---|%s\n",
			shape, tc[0].V, tc[0].D, tc[0].N, strings.Join(impls, " | "), peerDense, peerDenseReuse, strings.Repeat("---|", len(impls)+2))
		find := func(impl string, r rowID) (bwCell, bool) {
			i := slices.IndexFunc(tc, func(c bwCell) bool { return c.impl == impl && c.dist == r.dist && c.workers == r.workers })
			if i < 0 || len(tc[i].s["sec/op"]) == 0 {
				return bwCell{}, false
			}
			return tc[i], true
		}
		for _, r := range rows {
			fmt.Fprintf(w, "| %s | %d |", r.dist, r.workers)
			dense, okD := find(peerDense, r)
			reuse, okR := find(peerDenseReuse, r)
			for _, impl := range impls {
				c, ok := find(impl, r)
				if !ok {
					w.WriteString(" |")
					continue
				}
				cell := "roof –"
				if f, ok := d.fraction(cells, c); ok {
					cell = fmt.Sprintf("roof %.0f%%", 100*f)
				}
				t := median(c.s["sec/op"])
				if okD {
					cell += fmt.Sprintf(" · ×%.3g dense", median(dense.s["sec/op"])/t)
				}
				if okR {
					cell += fmt.Sprintf(" · ×%.3g reuse", median(reuse.s["sec/op"])/t)
				}
				fmt.Fprintf(w, " %s |", cell)
			}
			for _, p := range []struct {
				c  bwCell
				ok bool
			}{{dense, okD}, {reuse, okR}} {
				if !p.ok {
					w.WriteString(" – |")
					continue
				}
				cell := fmtSummary(p.c.s["sec/op"], "sec/op")
				if f, ok := d.fraction(cells, p.c); ok {
					cell += fmt.Sprintf(" · roof %.0f%%", 100*f)
				}
				fmt.Fprintf(w, " %s |", cell)
			}
			w.WriteString("\n")
		}
		w.WriteString("\n(ours: roofline fraction and torch's time over ours; torch: time per call)\n")
		if shape == "gpt2" {
			d.scratchTarget(w, cells, tc)
		}
	}
	if len(bare) > 0 {
		fmt.Fprintf(w, "\nNo torch dense backward in the inputs at %s: their scratch roofline fractions are in the tables above.\n", strings.Join(bare, ", "))
	}
}

// scratchTarget states the target for the GPT-2 shape: each of our
// kernels at dist=zipf and 2 workers, its roofline fraction against 85%%
// and its time against torch-dense-reuse's.
func (d *Data) scratchTarget(w *bytes.Buffer, cells, tc []bwCell) {
	var reuse []float64
	for _, c := range tc {
		if c.impl == peerDenseReuse && c.dist == string(bench.Zipf) && c.workers == 2 {
			reuse = c.s["sec/op"]
		}
	}
	var lines []string
	for _, c := range tc {
		if isPeer(c.impl) || c.dist != string(bench.Zipf) || c.workers != 2 || len(c.s["sec/op"]) == 0 {
			continue
		}
		roof := "roof not measured (no BenchmarkMemory copy at 2 threads)"
		if _, ok := d.copyAt(2); ok {
			if f, ok := d.fraction(cells, c); ok {
				roof = fmt.Sprintf("%.0f%% of the scratch roofline (≥ 85%%: %s)", 100*f, metOrNot(f >= 0.85))
			}
		}
		vs := "no torch-dense-reuse at zipf, 2 workers in the inputs"
		if len(reuse) > 0 {
			r := median(reuse) / median(c.s["sec/op"])
			vs = fmt.Sprintf("×%.3g against torch-dense-reuse (faster: %s)", r, metOrNot(r > 1))
		}
		lines = append(lines, fmt.Sprintf("- %s: %s; %s\n", c.impl, roof, vs))
	}
	if len(lines) > 0 {
		w.WriteString("\nThe target, GPT-2 / Zipf at 2 workers (medians):\n\n" + strings.Join(lines, ""))
	}
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

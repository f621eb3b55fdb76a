// Command bagtables prints the markdown tables of results/bag/BAG.md from
// result files of BenchmarkBag, BenchmarkMemory and the torch peer
// (bench/peers/bag.py), read with bench/benchfile and summarised with
// x/perf's benchmath (medians, assuming nothing about the distribution):
//
//	go run ./bench/internal/bagtables results/bag/go.txt results/bag/torch.txt results/bag/torch-reuse.txt
//
// Tables: the fast kernel against the loop (time per call and the ratio),
// against torch from scratch (with and without memory reuse), and its B/s
// as a fraction of the in-run copy bandwidth at the same thread count.
package main

import (
	"fmt"
	"log"
	"math"
	"os"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"

	"github.com/embgrad/embgrad/bench/benchfile"
)

// key is a result's name without its GOMAXPROCS suffix.
type key string

type series struct {
	secs, bps []float64
	parts     map[string]string
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: bagtables FILE...")
	}
	all := map[key]*series{}
	for _, p := range os.Args[1:] {
		f, err := benchfile.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range f.Results {
			k, parts := parse(r.Name)
			s := all[k]
			if s == nil {
				s = &series{parts: parts}
				all[k] = s
			}
			if v, ok := r.Value("sec/op"); ok {
				s.secs = append(s.secs, v)
			}
			if v, ok := r.Value("B/s"); ok {
				s.bps = append(s.bps, v)
			}
		}
	}
	med := func(x []float64) float64 {
		if len(x) == 0 {
			return math.NaN()
		}
		return benchmath.AssumeNothing.Summary(benchmath.NewSample(x, &benchmath.DefaultThresholds), 0.95).Center
	}
	find := func(want map[string]string) *series {
		for _, s := range all {
			ok := true
			for k, v := range want {
				if s.parts[k] != v {
					ok = false
					break
				}
			}
			if ok {
				return s
			}
		}
		return nil
	}
	ms := func(s *series) string {
		if s == nil {
			return "–"
		}
		return fmt.Sprintf("%.3g", med(s.secs)*1e3)
	}
	ratio := func(a, b *series) string {
		if a == nil || b == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f×", med(a.secs)/med(b.secs))
	}
	best := func(m map[string]string) *series {
		var b *series
		for _, w := range []string{"1", "2"} {
			m["workers"] = w
			if s := find(m); s != nil && (b == nil || med(s.secs) < med(b.secs)) {
				b = s
			}
		}
		return b
	}
	var shapes []map[string]string
	seen := map[string]bool{}
	for _, s := range all {
		if s.parts["impl"] != "bagloop" {
			continue
		}
		id := shapeID(s.parts)
		if !seen[id] {
			seen[id] = true
			shapes = append(shapes, map[string]string{"V": s.parts["V"], "D": s.parts["D"], "B": s.parts["B"], "L": s.parts["L"], "dist": s.parts["dist"]})
		}
	}
	sort.Slice(shapes, func(i, j int) bool { return shapeID(shapes[i]) < shapeID(shapes[j]) })
	variants := [][2]string{{"sum", "none"}, {"sum", "random"}, {"mean", "none"}, {"max", "none"}}
	with := func(m map[string]string, kv ...string) map[string]string {
		c := map[string]string{}
		for k, v := range m {
			c[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}

	fmt.Println("### Fast kernel vs loop (median ms per call; speedup = loop / bagsharded)")
	fmt.Println()
	fmt.Println("| shape | mode | weights | dst | bagloop | bagsharded w=1 | w=2 | speedup w=1 | w=2 |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, sh := range shapes {
		for _, v := range variants {
			for _, dst := range []string{"accumulate", "scratch"} {
				m := with(sh, "mode", v[0], "weights", v[1], "dst", dst)
				loop := find(with(m, "impl", "bagloop", "workers", "1"))
				s1 := find(with(m, "impl", "bagsharded", "workers", "1"))
				s2 := find(with(m, "impl", "bagsharded", "workers", "2"))
				fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", shapeID(sh), v[0], v[1], dst, ms(loop), ms(s1), ms(s2), ratio(loop, s1), ratio(loop, s2))
			}
		}
	}
	fmt.Println()
	fmt.Println("### From scratch vs torch (median ms per call; each impl at its faster worker count, 1 or 2; ratio = torch / bagsharded)")
	fmt.Println()
	fmt.Println("| shape | mode | weights | bagsharded | torch-bag (fresh table) | torch-bag-reuse | torch-bag / ours | torch-bag-reuse / ours |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, sh := range shapes {
		for _, v := range variants {
			m := with(sh, "mode", v[0], "weights", v[1], "dst", "scratch")
			ours := best(with(m, "impl", "bagsharded"))
			t := best(with(m, "impl", "torch-bag"))
			tr := best(with(m, "impl", "torch-bag-reuse"))
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", shapeID(sh), v[0], v[1], ms(ours), ms(t), ms(tr), ratio(t, ours), ratio(tr, ours))
		}
	}
	fmt.Println()
	fmt.Println("### Roofline: bagsharded B/s (bytes model) / BenchmarkMemory op=copy B/s at the same thread count")
	fmt.Println()
	fmt.Println("| shape | mode | weights | dst | w=1 | w=2 |")
	fmt.Println("|---|---|---|---|---|---|")
	copyAt := map[string]float64{}
	for _, s := range all {
		if s.parts["op"] == "copy" {
			copyAt[s.parts["threads"]] = med(s.bps)
		}
	}
	for _, sh := range shapes {
		for _, v := range variants {
			for _, dst := range []string{"accumulate", "scratch"} {
				m := with(sh, "impl", "bagsharded", "mode", v[0], "weights", v[1], "dst", dst)
				cells := []string{}
				for _, w := range []string{"1", "2"} {
					s := find(with(m, "workers", w))
					if s == nil || copyAt[w] == 0 {
						cells = append(cells, "–")
						continue
					}
					cells = append(cells, fmt.Sprintf("%.0f %%", 100*med(s.bps)/copyAt[w]))
				}
				fmt.Printf("| %s | %s | %s | %s | %s |\n", shapeID(sh), v[0], v[1], dst, strings.Join(cells, " | "))
			}
		}
	}
	fmt.Println()
	fmt.Printf("copy bandwidth (BenchmarkMemory op=copy, bytes read + written): threads=1 %.1f GB/s, threads=2 %.1f GB/s\n", copyAt["1"]/1e9, copyAt["2"]/1e9)
}

func shapeID(p map[string]string) string {
	return fmt.Sprintf("V=%s D=%s B=%s L=%s %s", p["V"], p["D"], p["B"], p["L"], p["dist"])
}

// parse splits a name into its key=value parts.
func parse(n benchfmt.Name) (key, map[string]string) {
	base, parts := n.Parts()
	m := map[string]string{"": string(base)}
	var b strings.Builder
	b.Write(base)
	for _, p := range parts {
		if p[0] == '-' {
			continue // GOMAXPROCS
		}
		b.Write(p)
		kv := strings.SplitN(string(p[1:]), "=", 2)
		if len(kv) == 2 {
			m[kv[0]] = kv[1]
		}
	}
	return key(b.String()), m
}

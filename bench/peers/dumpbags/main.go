// Command dumpbags writes BenchmarkBag's inputs for the torch peer
// (bench/peers/bag.py): for every bench.BagShapes shape, its ids
// (bench.BagInputs: bench.IDs with bench.Seed) as raw little-endian int32,
// plus manifest.json with the shape, the distinct ids and the bytes per
// call of bench.BagBytes for every pooling and dst mode, so the peer runs on
// exactly the Go benchmark's ids and reports comparable B/s. The offsets
// are regular (bag b starts at b·L) and are not written.
//
// Run it from the repository root:
//
//	go run ./bench/peers/dumpbags -out DIR
//
// bag.py runs it itself unless given -ids DIR.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench"
)

// Format names the manifest layout; bag.py refuses any other.
const Format = "embgrad-bag-ids/1"

// Manifest is manifest.json.
type Manifest struct {
	Format     string  `json:"format"`
	BytesModel string  `json:"bytes_model"`
	Shapes     []Shape `json:"shapes"`
}

// Shape is one BenchmarkBag input.
type Shape struct {
	Name     string `json:"name"`
	V        int    `json:"V"`
	D        int    `json:"D"`
	B        int    `json:"B"`
	L        int    `json:"L"`
	Dist     string `json:"dist"`
	File     string `json:"file"`
	Distinct int    `json:"distinct"`
	// Bytes is bench.BagBytes per "mode/dst/weights" (as in the benchmark
	// names). Max mode is given from scratch only (torch's backward
	// returns a fresh table), where the model does not depend on which
	// elements the maxima touch.
	Bytes map[string]int64 `json:"bytes"`
}

func main() {
	out := flag.String("out", "", "directory to write into (created)")
	flag.Parse()
	if *out == "" {
		log.Fatal("dumpbags: -out DIR is required")
	}
	if _, err := dump(*out); err != nil {
		log.Fatal(err)
	}
}

// dump writes the ids and the manifest into dir and returns the manifest.
func dump(dir string) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, BytesModel: "bench.BagBytes (bench/bag.go)"}
	for _, s := range bench.BagShapes() {
		ids, _, err := bench.BagInputs(s)
		if err != nil {
			return nil, err
		}
		file := fmt.Sprintf("%s.i32", s.Name)
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		if err := binary.Write(f, binary.LittleEndian, ids); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		U := len(slices.Compact(slices.Sorted(slices.Values(ids))))
		e := Shape{Name: s.Name, V: s.V, D: s.D, B: s.B, L: s.L, Dist: string(s.Dist), File: file, Distinct: U, Bytes: map[string]int64{}}
		for _, mode := range []embgrad.BagMode{embgrad.BagSum, embgrad.BagMean} {
			for _, dst := range bench.Modes() {
				for _, w := range []bool{false, true} {
					if w && mode != embgrad.BagSum {
						continue
					}
					ws := "none"
					if w {
						ws = "random"
					}
					e.Bytes[fmt.Sprintf("%v/%s/%s", mode, dst, ws)] = bench.BagBytes(s, mode, w, dst == bench.Scratch, U, 0)
				}
			}
		}
		e.Bytes["max/scratch/none"] = bench.BagBytes(s, embgrad.BagMax, false, true, U, 0)
		m.Shapes = append(m.Shapes, e)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return m, os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644)
}

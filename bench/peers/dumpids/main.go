// Command dumpids writes the benchmark matrix's token ids for the Python
// peers (bench/peers/peers.py): for every selected shape and distribution,
// the ids bench.IDs gives BenchmarkBackward (seed bench.Seed), as raw
// little-endian int32 files, plus manifest.json describing them and the
// bytes model behind B/s, so the peers run on exactly the Go benchmarks'
// inputs and report comparable throughput.
//
// Run it from the repository root:
//
//	go run ./bench/peers/dumpids -out DIR [-shapes default|all|gpt2,...]
//
// peers.py runs it itself unless given -ids DIR.
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

	"github.com/embgrad/embgrad/bench"
)

// Format names the manifest layout; peers.py refuses any other.
const Format = "embgrad-peers-ids/1"

// Manifest is manifest.json.
type Manifest struct {
	Format     string     `json:"format"`
	Source     string     `json:"source"`
	BytesModel string     `json:"bytes_model"`
	Backward   []Backward `json:"backward"`
	Tied       []Tied     `json:"tied"`
	// Sparse are the inputs of BenchmarkSparse (and of the step peers):
	// bench.SparseShapes with bench.SparseDists.
	Sparse []Sparse `json:"sparse,omitempty"`
}

// Sparse is one (shape, dist) input of BenchmarkSparse; Bytes is
// bench.SparseBytes.
type Sparse struct {
	Shape    string `json:"shape"`
	V        int    `json:"V"`
	D        int    `json:"D"`
	N        int    `json:"N"`
	Dist     string `json:"dist"`
	File     string `json:"file"`
	Distinct int    `json:"distinct"`
	Bytes    int64  `json:"bytes"`
}

// Backward is one (shape, dist) input of BenchmarkBackward.
type Backward struct {
	Shape    string           `json:"shape"`
	V        int              `json:"V"`
	D        int              `json:"D"`
	N        int              `json:"N"`
	Dist     string           `json:"dist"`
	Modes    []string         `json:"modes"`
	File     string           `json:"file"`
	Distinct int              `json:"distinct"`
	Bytes    map[string]int64 `json:"bytes"` // per mode: bytes per call, as b.SetBytes
	Vocab    string           `json:"vocab,omitempty"`
}

// Tied is one shape of BenchmarkTied's dZᵀ·H.
type Tied struct {
	V int `json:"V"`
	D int `json:"D"`
	T int `json:"T"`
}

// tiedTs are the sequence lengths of BenchmarkTied (bench/tied_test.go),
// on the GPT-2 table.
var tiedTs = []int{128, 512}

// bytesPerOp mirrors bytesPerOp in bench/backward_test.go (unexported there,
// in a test file): keep the two in step.
//
//   - accumulate: read gradOut (4·N·D) and ids (4·N), read and write each
//     distinct touched row once (2·4·U·D);
//   - scratch: read gradOut and ids, write the whole table once (4·V·D).
func bytesPerOp(s bench.Shape, distinct int, mode bench.Mode) int64 {
	b := 4*int64(s.N)*int64(s.D) + 4*int64(s.N)
	if mode == bench.Scratch {
		return b + 4*int64(s.V)*int64(s.D)
	}
	return b + 8*int64(distinct)*int64(s.D)
}

func main() {
	out := flag.String("out", "", "output directory (created if missing)")
	shapes := flag.String("shapes", "default", `shapes: "default", "all", or names such as "gpt2,llama2"`)
	sparse := flag.String("sparse", "none", `BenchmarkSparse shapes (bench.SelectSparseShapes): "none", "all", "sweep", or names such as "gpt2,v1e4"`)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("dumpids: ")
	if *out == "" || flag.NArg() != 0 {
		log.Fatal("usage: go run ./bench/peers/dumpids -out DIR [-shapes default|all|name,...] [-sparse none|all|name,...]")
	}
	m, err := dump(*out, *shapes, *sparse)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "dumpids: %d id files and manifest.json in %s\n", len(m.Backward)+len(m.Sparse), *out)
}

// dump writes the id files and manifest.json for the shape set and the
// sparse shape set ("none": no sparse inputs) into dir.
func dump(dir, shapes, sparse string) (*Manifest, error) {
	ss, err := bench.SelectShapes(shapes)
	if err != nil {
		return nil, err
	}
	var sparseShapes []bench.Shape
	if sparse != "none" {
		if sparseShapes, err = bench.SelectSparseShapes(sparse, false); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	m := &Manifest{
		Format: Format,
		Source: fmt.Sprintf("bench.IDs(dist, V, N, bench.Seed=%d); dist=text from bench.TextStream", bench.Seed),
		BytesModel: "accumulate 4·N·D + 4·N + 8·U·D, scratch 4·N·D + 4·N + 4·V·D " +
			"(U distinct ids; bench/backward_test.go bytesPerOp)",
	}
	modes := make([]string, 0, len(bench.Modes()))
	for _, md := range bench.Modes() {
		modes = append(modes, string(md))
	}
	for _, s := range ss {
		for _, d := range bench.Dists() {
			ids, err := bench.IDs(d, s.V, s.N, bench.Seed)
			if err != nil {
				return nil, err
			}
			distinct := len(slices.Compact(slices.Sorted(slices.Values(ids))))
			e := Backward{
				Shape: s.Name, V: s.V, D: s.D, N: s.N, Dist: string(d), Modes: modes,
				File:     fmt.Sprintf("%s-V%d-D%d-N%d-%s.i32", s.Name, s.V, s.D, s.N, d),
				Distinct: distinct,
				Bytes:    map[string]int64{},
			}
			for _, md := range bench.Modes() {
				e.Bytes[string(md)] = bytesPerOp(s, distinct, md)
			}
			if d == bench.Text {
				_, vocab, err := bench.TextStream(s.V)
				if err != nil {
					return nil, err
				}
				e.Vocab = vocab
			}
			if err := writeIDs(filepath.Join(dir, e.File), ids); err != nil {
				return nil, err
			}
			m.Backward = append(m.Backward, e)
		}
	}
	for _, s := range sparseShapes {
		for _, d := range bench.SparseDists(s) {
			ids, err := bench.IDs(d, s.V, s.N, bench.Seed)
			if err != nil {
				return nil, err
			}
			distinct := len(slices.Compact(slices.Sorted(slices.Values(ids))))
			e := Sparse{
				Shape: s.Name, V: s.V, D: s.D, N: s.N, Dist: string(d), Distinct: distinct,
				File:  fmt.Sprintf("sparse-%s-V%d-D%d-N%d-%s.i32", s.Name, s.V, s.D, s.N, d),
				Bytes: bench.SparseBytes(s, distinct),
			}
			if err := writeIDs(filepath.Join(dir, e.File), ids); err != nil {
				return nil, err
			}
			m.Sparse = append(m.Sparse, e)
		}
	}
	if g, ok := bench.ShapeByName("gpt2"); ok {
		for _, t := range tiedTs {
			m.Tied = append(m.Tied, Tied{V: g.V, D: g.D, T: t})
		}
	}
	j, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(j, '\n'), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// writeIDs writes ids as raw little-endian int32.
func writeIDs(path string, ids []int32) error {
	buf := make([]byte, 4*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint32(buf[4*i:], uint32(id))
	}
	return os.WriteFile(path, buf, 0o644)
}

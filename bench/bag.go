package bench

import (
	"fmt"

	"github.com/embgrad/embgrad"
)

// BagShape is one input of BenchmarkBag: B bags of L ids each from dist in
// a V×D table.
type BagShape struct {
	Name       string
	V, D, B, L int
	Dist       Dist
}

// N is the number of ids, B·L.
func (s BagShape) N() int { return s.B * s.L }

// BagShapes are BenchmarkBag's inputs: recommender tables (10⁶ rows of 64
// or 128 columns, bags of 20 to 100 Zipf ids, as a DLRM-style sparse
// feature) and one text shape (GPT-2's table, bags of 128 tokens of real
// text: a bag-of-words pooling of sentences).
func BagShapes() []BagShape {
	return []BagShape{
		{"recsys-L20", 1_000_000, 64, 2048, 20, Zipf},
		{"recsys-L100", 1_000_000, 64, 512, 100, Zipf},
		{"recsys-D128", 1_000_000, 128, 1024, 50, Zipf},
		{"text", 50257, 768, 64, 128, Text},
	}
}

// BagInputs returns the shape's ids (bench.IDs with bench.Seed, so the
// peers can dump the same) and its offsets, bag b starting at b·L.
func BagInputs(s BagShape) ([]int32, []int32, error) {
	ids, err := IDs(s.Dist, s.V, s.N(), Seed)
	if err != nil {
		return nil, nil, err
	}
	offsets := make([]int32, s.B)
	for b := range offsets {
		offsets[b] = int32(b * s.L)
	}
	return ids, offsets, nil
}

// BagBytes is BenchmarkBag's bytes model (b.SetBytes), the compulsory
// memory traffic of one call:
//
//   - every mode reads ids (4·N), offsets (4·B) and gradOut (4·B·D);
//   - sum and mean read and write each distinct touched row once
//     (8·U·D for U distinct ids); max reads maxIndices (4·B·D) and reads
//     and writes each distinct touched element once (8·Ue);
//   - weights add reading them (4·N), writing dw (4·N) and reading each
//     distinct touched row of E once (4·U·D);
//   - scratch writes the whole table once (4·V·D) instead of reading and
//     writing the touched rows (or elements).
//
// distinct is U; distinctElems is Ue (max mode only). Counting each
// distinct row once is right for sum and mean: a kernel that sums each
// row's terms while the row is in cache (impl/bagsharded sorts positions
// by row for this) moves exactly that; one adding position by position
// moves more, which is the kernel's cost, not compulsory traffic.
func BagBytes(s BagShape, mode embgrad.BagMode, weighted, scratch bool, distinct, distinctElems int) int64 {
	N, B, D := int64(s.N()), int64(s.B), int64(s.D)
	b := 4*N + 4*B + 4*B*D
	touched := 8 * int64(distinct) * D
	if mode == embgrad.BagMax {
		b += 4 * B * D
		touched = 8 * int64(distinctElems)
	}
	if weighted {
		b += 8*N + 4*int64(distinct)*D
	}
	if scratch {
		return b + 4*int64(s.V)*D
	}
	return b + touched
}

// String names the shape for messages.
func (s BagShape) String() string {
	return fmt.Sprintf("%s (V=%d D=%d B=%d L=%d dist=%s)", s.Name, s.V, s.D, s.B, s.L, s.Dist)
}

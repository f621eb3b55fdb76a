package bench

import (
	"embed"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
)

// Dist is a token-id distribution.
type Dist string

// The distributions of the matrix.
const (
	// Uniform draws every id independently and uniformly from [0, V).
	Uniform Dist = "uniform"
	// Zipf draws rank k with probability ∝ (1+k)^-ZipfS and uses the rank
	// as the id: hot rows have low ids, as in BPE vocabularies whose ids
	// follow merge order.
	Zipf Dist = "zipf"
	// Same repeats one id N times: every position hits one row, the worst
	// case for contention.
	Same Dist = "same"
	// Text is real English text tokenized with a real BPE vocabulary; see
	// TextStream.
	Text Dist = "text"
)

// ZipfS is the exponent of the Zipf distribution, close to natural-language
// token frequencies.
const ZipfS = 1.1

// Seed is the seed the benchmarks pass to IDs.
const Seed = 1

// Dists lists the distributions in benchmark order.
func Dists() []Dist { return []Dist{Uniform, Zipf, Same, Text} }

// IDs returns N token ids in [0, V) drawn from dist. The same arguments give
// the same ids on every machine and Go release: the generators are
// math/rand/v2's PCG seeded with (seed, index of dist), and Text slices the
// committed stream starting at a seed-chosen offset, wrapping around.
func IDs(dist Dist, V, N int, seed uint64) ([]int32, error) {
	if V <= 0 || V > 1<<31 || N < 0 {
		return nil, fmt.Errorf("bench.IDs(%s, V=%d, N=%d): need 0 < V ≤ 2³¹ and N ≥ 0", dist, V, N)
	}
	stream := uint64(0)
	for i, d := range Dists() {
		if d == dist {
			stream = uint64(i + 1)
		}
	}
	if stream == 0 {
		return nil, fmt.Errorf("bench.IDs: unknown distribution %q (want uniform, zipf, same or text)", dist)
	}
	r := rand.New(rand.NewPCG(seed, stream))
	ids := make([]int32, N)
	switch dist {
	case Uniform:
		for i := range ids {
			ids[i] = int32(r.IntN(V))
		}
	case Zipf:
		z := rand.NewZipf(r, ZipfS, 1, uint64(V-1))
		for i := range ids {
			ids[i] = int32(z.Uint64())
		}
	case Same:
		id := int32(r.IntN(V))
		for i := range ids {
			ids[i] = id
		}
	case Text:
		s, _, err := TextStream(V)
		if err != nil {
			return nil, err
		}
		off := r.IntN(len(s))
		for i := range ids {
			ids[i] = s[(off+i)%len(s)]
		}
	}
	return ids, nil
}

// The token streams made by bench/internal/mktokens (go run
// ./bench/internal/mktokens): the Go spec and memory model, markup stripped,
// tokenized with tiktoken vocabularies; little-endian int32 ids.
//
//go:embed testdata/text_r50k_base.bin testdata/text_cl100k_base.bin
var textFiles embed.FS

// The vocabularies of the committed streams and their sizes.
const (
	R50kBase   = "r50k_base"   // GPT-2's vocabulary
	Cl100kBase = "cl100k_base" // GPT-4's; Llama 3's 128256 ids extend it
	R50kSize   = 50257
	Cl100kSize = 100277
)

var loadText = sync.OnceValues(func() (map[string][]int32, error) {
	m := make(map[string][]int32)
	for _, vocab := range []string{R50kBase, Cl100kBase} {
		name := "testdata/text_" + vocab + ".bin"
		b, err := textFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || len(b)%4 != 0 {
			return nil, fmt.Errorf("bench: %s: %d bytes, want a non-empty multiple of 4", name, len(b))
		}
		ids := make([]int32, len(b)/4)
		for i := range ids {
			ids[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
		m[vocab] = ids
	}
	return m, nil
})

// TextStream returns the real token stream for a table of V rows and the
// vocabulary it comes from. The stream is the text tokenized with the
// largest committed vocabulary that fits:
//
//   - V ≥ 100277 (Llama 3, the recommender): cl100k_base ids as they are;
//   - 50257 ≤ V < 100277 (GPT-2): r50k_base ids as they are;
//   - V < 50257 (BERT-base, Llama 2): r50k_base ids mod V, which folds the
//     rarest tokens (the highest BPE ids) onto other rows and keeps the
//     frequent ones (low ids) where they are.
//
// The returned slice is shared: do not modify it.
func TextStream(V int) ([]int32, string, error) {
	m, err := loadText()
	if err != nil {
		return nil, "", err
	}
	switch {
	case V >= Cl100kSize:
		return m[Cl100kBase], Cl100kBase, nil
	case V >= R50kSize:
		return m[R50kBase], R50kBase, nil
	}
	src := m[R50kBase]
	ids := make([]int32, len(src))
	for i, id := range src {
		ids[i] = id % int32(V)
	}
	return ids, R50kBase + " mod V", nil
}

package bench

import (
	"slices"
	"strings"
	"testing"
)

// The committed streams' lengths, as recorded in testdata/text.txt.
const (
	r50kTokens   = 66092
	cl100kTokens = 58770
)

func TestTextStreamsLoad(t *testing.T) {
	for _, tc := range []struct {
		V       int
		vocab   string
		n, size int
	}{
		{50257, R50kBase, r50kTokens, R50kSize},
		{128256, Cl100kBase, cl100kTokens, Cl100kSize},
		{1_000_000, Cl100kBase, cl100kTokens, Cl100kSize},
		{30522, R50kBase + " mod V", r50kTokens, 30522},
	} {
		ids, vocab, err := TextStream(tc.V)
		if err != nil {
			t.Fatalf("V=%d: %v", tc.V, err)
		}
		if vocab != tc.vocab || len(ids) != tc.n {
			t.Errorf("V=%d: got %d ids of %s, want %d of %s", tc.V, len(ids), vocab, tc.n, tc.vocab)
		}
		if lo, hi := slices.Min(ids), slices.Max(ids); lo < 0 || int(hi) >= tc.size {
			t.Errorf("V=%d: ids span [%d, %d], want within [0, %d)", tc.V, lo, hi, tc.size)
		}
		// Real text: many distinct tokens, and the most frequent one is
		// frequent (a stream of garbage or zeros fails one of these).
		counts := map[int32]int{}
		for _, id := range ids {
			counts[id]++
		}
		top := 0
		for _, c := range counts {
			top = max(top, c)
		}
		if len(counts) < 3000 || top < len(ids)/50 {
			t.Errorf("V=%d: %d distinct ids, top count %d of %d: not a text-like stream", tc.V, len(counts), top, len(ids))
		}
	}
}

func TestIDs(t *testing.T) {
	for _, s := range Shapes() {
		for _, d := range Dists() {
			name := s.Name + "/" + string(d)
			a, err := IDs(d, s.V, s.N, Seed)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, _ := IDs(d, s.V, s.N, Seed)
			if len(a) != s.N || !slices.Equal(a, b) {
				t.Fatalf("%s: %d ids, or not deterministic", name, len(a))
			}
			if lo, hi := slices.Min(a), slices.Max(a); lo < 0 || int(hi) >= s.V {
				t.Errorf("%s: ids span [%d, %d], want within [0, %d)", name, lo, hi, s.V)
			}
			c, _ := IDs(d, s.V, s.N, Seed+1)
			if slices.Equal(a, c) {
				t.Errorf("%s: seed %d and %d give the same ids", name, Seed, Seed+1)
			}
			distinct := len(slices.Compact(slices.Sorted(slices.Values(a))))
			switch d {
			case Same:
				if distinct != 1 {
					t.Errorf("%s: %d distinct ids, want 1", name, distinct)
				}
			case Uniform:
				if distinct < s.N*3/4 && distinct < s.V/2 {
					t.Errorf("%s: only %d distinct ids", name, distinct)
				}
			case Zipf:
				zeros := 0
				for _, id := range a {
					if id == 0 {
						zeros++
					}
				}
				// P(0) = 1/ζ(1.1) ≈ 0.094 for large V.
				if zeros < s.N/20 || distinct < 100 {
					t.Errorf("%s: id 0 occurs %d times, %d distinct: not Zipf-like", name, zeros, distinct)
				}
			}
		}
	}
}

func TestIDsErrors(t *testing.T) {
	for _, tc := range []struct {
		d    Dist
		V, N int
	}{
		{"gauss", 10, 10}, {Uniform, 0, 10}, {Uniform, 10, -1}, {Text, -5, 3},
	} {
		if _, err := IDs(tc.d, tc.V, tc.N, Seed); err == nil {
			t.Errorf("IDs(%q, %d, %d): no error", tc.d, tc.V, tc.N)
		}
	}
}

func TestSelectShapes(t *testing.T) {
	def, err := SelectShapes("default")
	if err != nil || len(def) != len(DefaultShapeNames) {
		t.Fatalf("default: %v, %v", def, err)
	}
	for _, s := range def {
		if s.Bytes() > 256<<20 {
			t.Errorf("default set has %v, a %d MB table", s, s.Bytes()>>20)
		}
	}
	all, _ := SelectShapes("all")
	if len(all) != 5 {
		t.Errorf("all: %d shapes, want 5", len(all))
	}
	two, err := SelectShapes("gpt2,llama3")
	if err != nil || len(two) != 2 || two[1].V != 128256 {
		t.Errorf("gpt2,llama3: %v, %v", two, err)
	}
	if _, err := SelectShapes("gpt5"); err == nil {
		t.Error("unknown shape: no error")
	}
	if _, err := SelectShapes("gpt2, gpt2"); err == nil || !strings.Contains(err.Error(), `"gpt2" given twice`) {
		t.Errorf("gpt2,gpt2: error %v, want given twice", err)
	}
}

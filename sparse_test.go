package embgrad_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
)

func TestValidateSparse(t *testing.T) {
	const V, D = 5, 2
	ids := []int32{1, 3, 1}
	g := make([]float32, len(ids)*D)
	mem := make([]int32, 16)
	fmem := make([]float32, 32)
	ok := func() ([]int32, []float32) { return make([]int32, 3), make([]float32, 6) }
	r, v := ok()
	if err := embgrad.ValidateSparse(r, v, V, D, ids, g, embgrad.Options{}); err != nil {
		t.Fatalf("valid call rejected: %v", err)
	}
	for _, c := range []struct {
		name, want string
		rows       []int32
		vals       []float32
		V, D       int
		ids        []int32
		g          []float32
		opt        embgrad.Options
	}{
		{"rows too small", "need at least len(ids) = 3", r[:2], v, V, D, ids, g, embgrad.Options{}},
		{"values too small", "need at least len(ids)*D", r, v[:5], V, D, ids, g, embgrad.Options{}},
		{"gradOut", "len(gradOut)", r, v, V, D, ids, g[:5], embgrad.Options{}},
		{"bad id", "ids[1] = 5", r, v, V, D, []int32{1, 5, 1}, g, embgrad.Options{}},
		{"padding", "padding index 5", r, v, V, D, ids, g, embgrad.Options{}.WithPadding(5)},
		{"MaxV", "MaxV", r, v, embgrad.MaxV + 1, 0, ids, nil, embgrad.Options{}},
		{"rows/ids", "rows overlaps ids", mem[0:3], v, V, D, mem[2:5], g, embgrad.Options{}},
		{"values/gradOut", "values overlaps gradOut", r, fmem[0:6], V, D, ids, fmem[5:11], embgrad.Options{}},
	} {
		err := embgrad.ValidateSparse(c.rows, c.vals, c.V, c.D, c.ids, c.g, c.opt)
		if !errors.Is(err, embgrad.ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an ErrInvalidInput naming %q", c.name, err, c.want)
		}
	}
}

func TestDensify(t *testing.T) {
	const V, D = 4, 2
	dst := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	if err := embgrad.Densify(dst, V, D, []int32{0, 2, 9}, []float32{1, 2, 3, 4, 9, 9}, 2); err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, 3, 1, 1, 4, 5, 1, 1}; !slices.Equal(dst, want) {
		t.Fatalf("dst = %v, want %v", dst, want)
	}
	was := slices.Clone(dst)
	for name, rows := range map[string][]int32{"unsorted": {2, 0}, "duplicate": {1, 1}, "out of range": {0, 4}} {
		if err := embgrad.Densify(dst, V, D, rows, []float32{1, 2, 3, 4}, 2); !errors.Is(err, embgrad.ErrInvalidInput) || !slices.Equal(dst, was) {
			t.Errorf("%s rows: err %v, dst %v (was %v)", name, err, dst, was)
		}
	}
	if err := embgrad.Densify(dst, V, D, []int32{0}, dst[:2], 1); !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("values overlapping dst: err %v", err)
	}
	if err := embgrad.Densify(dst, V, D, []int32{0}, []float32{1}, 1); !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("U beyond values: err %v", err)
	}
}

func TestUncoalesced(t *testing.T) {
	ids := []int32{2, 0, 2, 1}
	g := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	idx, vals, err := embgrad.Uncoalesced(3, 2, ids, g, embgrad.Options{}.WithPadding(0))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idx, []int32{2, 2, 1}) || !slices.Equal(vals, []float32{1, 2, 5, 6, 7, 8}) {
		t.Errorf("got %v %v", idx, vals)
	}
	if _, _, err := embgrad.Uncoalesced(3, 2, ids, g, embgrad.Options{ScaleGradByFreq: true}); !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("scaling accepted: %v", err)
	}
	if _, _, err := embgrad.Uncoalesced(2, 2, ids, g, embgrad.Options{}); !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("bad id accepted: %v", err)
	}
}

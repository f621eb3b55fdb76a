package reference_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/reference"
)

func TestSparseOracle(t *testing.T) {
	ids := []int32{3, 1, 3, 0, 1}
	g := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	opt := embgrad.Options{}.WithPadding(0)
	r, err := reference.SparseOracle(5, 2, ids, g, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Rows, []int32{1, 3}) {
		t.Fatalf("rows %v, want [1 3]", r.Rows)
	}
	rows, vals := []int32{1, 3, 77}, []float32{3 + 9, 4 + 10, 1 + 5, 2 + 6, -1, -1}
	if err := r.Check(rows, vals, 2); err != nil {
		t.Errorf("correct result rejected: %v", err)
	}
	for name, c := range map[string]struct {
		rows []int32
		vals []float32
		u    int
	}{
		"swapped rows": {[]int32{3, 1}, []float32{6, 8, 12, 14}, 2},
		"extra row":    {[]int32{1, 3, 4}, []float32{12, 14, 6, 8, 0, 0}, 3},
		"missing row":  {[]int32{1}, []float32{12, 14}, 1},
		"wrong value":  {[]int32{1, 3}, []float32{12, 14, 6, 8.5}, 2},
		"U too large":  {[]int32{1, 3}, []float32{12, 14, 6, 8}, 3},
	} {
		if err := r.Check(c.rows, c.vals, c.u); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	var m *reference.Mismatch
	if err := r.Check([]int32{1, 3}, []float32{12, 14, 6, 8.5}, 2); !errors.As(err, &m) || m.Row != 3 || m.Col != 1 {
		t.Errorf("wrong value: got %v, want a *Mismatch at row 3 col 1", err)
	}
	if _, err := reference.SparseOracle(5, 2, []int32{5}, g[:2], opt); !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("bad id: %v", err)
	}
}

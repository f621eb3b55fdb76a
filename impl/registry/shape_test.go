package registry

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/embgrad/embgrad"
)

// TestNoWorkSizedByV checks that no kernel sizes a table by V when D = 0:
// dst is then empty whatever V is, so validation accepts a V of 2⁴⁷ or
// math.MaxInt, and a count table, a plan or a radix histogram sized by V
// would panic (makeslice, index out of range) or take the machine's memory.
// Every call must return without panicking, in every mode and option.
func TestNoWorkSizedByV(t *testing.T) {
	idLists := map[string][]int32{
		"no ids":      nil,
		"200 zeros":   make([]int32, 200),
		"largest id":  {math.MaxInt32, 0, math.MaxInt32},
		"300 of each": repeat([]int32{0, 1 << 30, math.MaxInt32}, 300),
	}
	opts := []embgrad.Options{
		{}, {ScaleGradByFreq: true},
		embgrad.Options{}.WithPadding(0),
		embgrad.Options{ScaleGradByFreq: true}.WithPadding(math.MaxInt32),
	}
	for _, V := range []int{1 << 34, 1 << 47, math.MaxInt} {
		for name, ids := range idLists {
			for _, opt := range opts {
				c := fmt.Sprintf("V=%d D=0 ids=%s opt=%+v", V, name, opt)
				for _, k := range Kernels() {
					call(t, c, k.Name()+".Backward", func() error { return k.Backward(nil, V, 0, ids, nil, opt) })
					call(t, c, k.Name()+" Scratch", func() error { return embgrad.Scratch(k, nil, V, 0, ids, nil, opt) })
				}
				for _, k := range Tied() {
					a := embgrad.TiedArgs{V: V, IDs: ids, Opt: opt}
					call(t, c, k.Name()+".BackwardTied", func() error { return k.BackwardTied(nil, a) })
				}
			}
		}
	}
}

// call runs f, failing the test if it panics. Either a nil error or a
// validation error is acceptable: whether such a V is refused is the
// contract's choice, not the kernel's.
func call(t *testing.T, c, what string, f func() error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %s panicked: %v", c, what, r)
		}
	}()
	if err := f(); err != nil && !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("%s: %s: %v does not wrap ErrInvalidInput", c, what, err)
	}
}

func repeat(ids []int32, n int) []int32 {
	var out []int32
	for _, id := range ids {
		for range n {
			out = append(out, id)
		}
	}
	return out
}

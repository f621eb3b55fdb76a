package property

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/internal/suite"
)

// The harness reports each kind of violation, whatever else the call did.
func TestCallViolations(t *testing.T) {
	c := Case{V: 2, D: 2, IDs: []int32{1}, GradOut: []float32{1, 2}, Dst: make([]float32, 4)}
	for _, tc := range []struct {
		kind, msg string
		f         backward
	}{
		{suite.StrayWrite, "at dst[4]", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			unsafe.Slice(&dst[0], len(dst)+1)[len(dst)] = 1 // as a faulty assembly kernel might
			return nil
		}},
		{suite.StrayWrite, "at dst[-1]", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			*(*float32)(unsafe.Add(unsafe.Pointer(&dst[0]), -4)) = 1
			return nil
		}},
		{suite.ChangedInput, "modified ids: ids[0] (len 1) was 1, now 0", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			ids[0] = 0
			return nil
		}},
		{suite.ChangedInput, "modified gradOut: gradOut[1] (len 2) was 2, now 0", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			g[1] = 0
			return errors.New("even with an error")
		}},
		{suite.Panicked, "kernel panicked: oops", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			panic("oops")
		}},
	} {
		_, err := call(tc.f, c)
		if !suite.IsViolation(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("want a %s violation with %q, got %v", tc.kind, tc.msg, err)
		}
	}
	if _, err := call(loop.Kernel{}.Backward, c); err != nil {
		t.Errorf("correct kernel: %v", err)
	}
}

// touchesRow is loop plus a stray change to one element of dst.
type touchesRow struct {
	loop.Kernel
	k int
}

func (t touchesRow) Backward(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
	if err := t.Kernel.Backward(dst, V, D, ids, g, opt); err != nil {
		return err
	}
	dst[t.k]++
	return nil
}

// untouched-rows names the row and column that changed, and says when a
// -0 became +0.
func TestUntouchedMessage(t *testing.T) {
	neg := float32(math.Copysign(0, -1))
	c := Case{V: 4, D: 3, IDs: []int32{0}, GradOut: []float32{1, 2, 3}, Dst: []float32{0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}}
	err := untouched(touchesRow{k: 2*3 + 1}, c)
	if want := "untouched row 2 changed: row 2 col 1: got 2"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("want %q, got %v", want, err)
	}
	c.Dst[3*3+2] = neg
	var fresh embgrad.Kernel
	for _, k := range broken.Faulty() {
		if k.Name() == "adds-fresh-gradient" {
			fresh = k
		}
	}
	err = untouched(fresh, c)
	if want := "untouched row 3 changed: row 3 col 2: got 0 (bits 0x00000000), want -0 (bits 0x80000000) unchanged: -0 became +0: a zero was added into a row no id names"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("want %q, got %v", want, err)
	}
}

// panicsAtZeroWidth is loop, except that it indexes gradOut when D = 0.
type panicsAtZeroWidth struct{ loop.Kernel }

func (k panicsAtZeroWidth) Backward(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
	if D == 0 && len(ids) > 0 {
		_ = g[len(ids)-1]
	}
	return k.Kernel.Backward(dst, V, D, ids, g, opt)
}

// The zero-width check calls kernels with D = 0 and fails one that
// mishandles it.
func TestZeroWidthCheck(t *testing.T) {
	c := Case{V: 5, D: 2, IDs: []int32{4, 1}, GradOut: make([]float32, 4), Dst: make([]float32, 10)}
	z := zeroWidth(c)
	if z.D != 0 || z.V < c.V || len(z.Dst) != 0 || len(z.GradOut) != 0 || int(z.IDs[0]) != 4*z.V/c.V {
		t.Fatalf("zeroWidth(%v) = %v", c, z)
	}
	if err := verify(loop.Kernel{}.Backward, z); err != nil {
		t.Errorf("loop: %v", err)
	}
	if err := verify(panicsAtZeroWidth{}.Backward, z); !suite.IsViolation(err, suite.Panicked) {
		t.Errorf("a kernel that panics at D = 0: %v", err)
	}
}

package property

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
)

// The harness reports each kind of violation, whatever else the call did.
func TestCallViolations(t *testing.T) {
	c := Case{V: 2, D: 2, IDs: []int32{1}, GradOut: []float32{1, 2}, Dst: make([]float32, 4)}
	for _, tc := range []struct {
		kind, msg string
		f         backward
	}{
		{strayWrite, "at dst[4]", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			unsafe.Slice(&dst[0], len(dst)+1)[len(dst)] = 1 // as a faulty assembly kernel might
			return nil
		}},
		{strayWrite, "at dst[-1]", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			*(*float32)(unsafe.Add(unsafe.Pointer(&dst[0]), -4)) = 1
			return nil
		}},
		{changedInput, "changed ids", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			ids[0] = 0
			return nil
		}},
		{changedInput, "changed gradOut[1] from 2 to 0", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			g[1] = 0
			return errors.New("even with an error")
		}},
		{panicked, "panicked: oops", func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			panic("oops")
		}},
	} {
		_, err := call(tc.f, c)
		if !isViolation(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("want a %s violation with %q, got %v", tc.kind, tc.msg, err)
		}
	}
	if _, err := call(loop.Kernel{}.Backward, c); err != nil {
		t.Errorf("correct kernel: %v", err)
	}
}

package property

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
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

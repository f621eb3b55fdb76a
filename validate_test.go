package embgrad_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
)

func TestValidate(t *testing.T) {
	ok := func() ([]float32, int, int, []int32, []float32, embgrad.Options) {
		return make([]float32, 3*2), 3, 2, []int32{0, 2, 2}, make([]float32, 3*2), embgrad.Options{}
	}
	dst, V, D, ids, g, opt := ok()
	if err := embgrad.Validate(dst, V, D, ids, g, opt); err != nil {
		t.Fatalf("valid input rejected: %v", err)
	}
	if err := embgrad.Validate(nil, 0, 0, nil, nil, embgrad.Options{}); err != nil {
		t.Fatalf("empty input rejected: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(dst *[]float32, V, D *int, ids *[]int32, g *[]float32, opt *embgrad.Options)
		want   string // substring of the message
	}{
		{"negative id", func(_ *[]float32, _, _ *int, ids *[]int32, _ *[]float32, _ *embgrad.Options) { (*ids)[1] = -1 }, "ids[1] = -1"},
		{"id equal to V", func(_ *[]float32, _, _ *int, ids *[]int32, _ *[]float32, _ *embgrad.Options) { (*ids)[2] = 3 }, "ids[2] = 3 is outside [0, 3)"},
		{"short dst", func(dst *[]float32, _, _ *int, _ *[]int32, _ *[]float32, _ *embgrad.Options) { *dst = (*dst)[:5] }, "len(dst) = 5, want 6"},
		{"long gradOut", func(_ *[]float32, _, _ *int, _ *[]int32, g *[]float32, _ *embgrad.Options) { *g = append(*g, 0) }, "len(gradOut) = 7, want 6"},
		{"padding = V", func(_ *[]float32, _, _ *int, _ *[]int32, _ *[]float32, o *embgrad.Options) { *o = o.WithPadding(3) }, "padding index 3"},
		{"negative padding", func(_ *[]float32, _, _ *int, _ *[]int32, _ *[]float32, o *embgrad.Options) { *o = o.WithPadding(-2) }, "padding index -2"},
		{"negative D", func(_ *[]float32, _, D *int, _ *[]int32, _ *[]float32, _ *embgrad.Options) { *D = -1 }, "negative"},
		{"V*D overflows", func(_ *[]float32, V, D *int, _ *[]int32, _ *[]float32, _ *embgrad.Options) { *V, *D = math.MaxInt/2, 3 }, "overflows"},
		{"D = 0, V above MaxV", func(dst *[]float32, V, D *int, _ *[]int32, g *[]float32, _ *embgrad.Options) {
			*dst, *V, *D, *g = nil, 1<<47, 0, nil
		}, "V = 140737488355328 is above MaxV = 2147483648"},
		{"D = 0, V = MaxV+1", func(dst *[]float32, V, D *int, _ *[]int32, g *[]float32, _ *embgrad.Options) {
			*dst, *V, *D, *g = nil, embgrad.MaxV+1, 0, nil
		}, "above MaxV"},
		{"dst is gradOut", func(dst *[]float32, _, _ *int, _ *[]int32, g *[]float32, _ *embgrad.Options) { *g = *dst }, "dst overlaps gradOut"},
		{"dst overlaps gradOut by one element", func(dst *[]float32, _, _ *int, _ *[]int32, g *[]float32, _ *embgrad.Options) {
			buf := make([]float32, 11)
			*dst, *g = buf[:6], buf[5:]
		}, "dst overlaps gradOut"},
		{"ids inside dst", func(dst *[]float32, _, _ *int, ids *[]int32, g *[]float32, _ *embgrad.Options) {
			// ids' memory is dst's last elements, reinterpreted: 0 and 2 as
			// float32 bits are +0 and a subnormal.
			(*dst)[4], (*dst)[5] = math.Float32frombits(0), math.Float32frombits(2)
			*ids, *g = unsafe.Slice((*int32)(unsafe.Pointer(&(*dst)[4])), 2), (*g)[:4]
		}, "dst overlaps ids"},
	} {
		dst, V, D, ids, g, opt := ok()
		tc.mutate(&dst, &V, &D, &ids, &g, &opt)
		checkInvalid(t, tc.name, embgrad.Validate(dst, V, D, ids, g, opt), tc.want)
	}
}

// Buffers that touch without sharing memory, and V = MaxV with D = 0, are
// valid: the overlap test is on byte ranges, and the bound is inclusive.
func TestValidateEdges(t *testing.T) {
	buf := make([]float32, 12)
	if err := embgrad.Validate(buf[:6], 3, 2, []int32{0, 2, 2}, buf[6:], embgrad.Options{}); err != nil {
		t.Errorf("adjacent dst and gradOut rejected: %v", err)
	}
	if err := embgrad.Validate(nil, embgrad.MaxV, 0, []int32{math.MaxInt32}, nil, embgrad.Options{}); err != nil {
		t.Errorf("V = MaxV, D = 0 rejected: %v", err)
	}
	// ids and gradOut may share memory with each other: both are read-only.
	raw := make([]float32, 6)
	ids := unsafe.Slice((*int32)(unsafe.Pointer(&raw[0])), 3)
	if err := embgrad.Validate(make([]float32, 3*2), 3, 2, ids, raw, embgrad.Options{}); err != nil {
		t.Errorf("ids sharing memory with gradOut rejected: %v", err)
	}
}

// Scratch validates before it clears dst: an overlapping gradOut is
// rejected and dst keeps its bits.
func TestScratchValidatesBeforeZeroing(t *testing.T) {
	buf := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	dst, g := buf[:6], buf[2:6]
	before := slices.Clone(buf)
	err := embgrad.Scratch(addKernel{}, dst, 3, 2, []int32{0, 1}, g, embgrad.Options{})
	checkInvalid(t, "Scratch with gradOut inside dst", err, "dst overlaps gradOut")
	if !slices.Equal(buf, before) {
		t.Errorf("Scratch changed dst on error: %v, was %v", buf, before)
	}
}

// addKernel is the reference loop, without padding or scaling.
type addKernel struct{}

func (addKernel) Name() string { return "add" }

func (addKernel) Backward(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, g, opt); err != nil {
		return err
	}
	for i, id := range ids {
		for j := range D {
			dst[int(id)*D+j] += g[i*D+j]
		}
	}
	return nil
}

func TestZeroOptionsHaveNoPadding(t *testing.T) {
	var o embgrad.Options
	if o.Skips(0) {
		t.Fatal("zero Options treat token 0 as padding")
	}
	if !o.WithPadding(0).Skips(0) || o.WithPadding(0).Skips(1) {
		t.Fatal("WithPadding(0) does not skip exactly token 0")
	}
}

// checkInvalid fails t unless err reports invalid input: non-nil, wrapping
// ErrInvalidInput, with want in its message.
func checkInvalid(t *testing.T, name string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", name)
		return
	}
	if !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("%s: %v does not wrap ErrInvalidInput", name, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not contain %q", name, err, want)
	}
}

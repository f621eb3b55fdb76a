package embgrad_test

import (
	"errors"
	"math"
	"strings"
	"testing"

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
	} {
		dst, V, D, ids, g, opt := ok()
		tc.mutate(&dst, &V, &D, &ids, &g, &opt)
		checkInvalid(t, tc.name, embgrad.Validate(dst, V, D, ids, g, opt), tc.want)
	}
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

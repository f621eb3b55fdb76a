package embgrad_test

import (
	"math"
	"testing"

	"github.com/embgrad/embgrad"
)

func TestValidateTied(t *testing.T) {
	ok := func() ([]float32, embgrad.TiedArgs) {
		return make([]float32, 3*2), embgrad.TiedArgs{
			V: 3, D: 2, IDs: []int32{0, 2}, GradOut: make([]float32, 2*2),
			T: 4, H: make([]float32, 4*2), DZ: make([]float32, 4*3),
		}
	}
	dst, a := ok()
	if err := embgrad.ValidateTied(dst, a); err != nil {
		t.Fatalf("valid input rejected: %v", err)
	}
	if err := embgrad.ValidateTied(nil, embgrad.TiedArgs{}); err != nil {
		t.Fatalf("empty input rejected: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(dst *[]float32, a *embgrad.TiedArgs)
		want   string // substring of the message
	}{
		{"bad id", func(_ *[]float32, a *embgrad.TiedArgs) { a.IDs[1] = 3 }, "ids[1] = 3 is outside [0, 3)"},
		{"short dst", func(dst *[]float32, _ *embgrad.TiedArgs) { *dst = (*dst)[:5] }, "len(dst) = 5, want 6"},
		{"long gradOut", func(_ *[]float32, a *embgrad.TiedArgs) { a.GradOut = append(a.GradOut, 0) }, "len(gradOut) = 5, want 4"},
		{"bad padding", func(_ *[]float32, a *embgrad.TiedArgs) { a.Opt = a.Opt.WithPadding(3) }, "padding index 3"},
		{"short H", func(_ *[]float32, a *embgrad.TiedArgs) { a.H = a.H[:7] }, "len(H) = 7, want 8 (T*D = 4*2)"},
		{"H for another T", func(_ *[]float32, a *embgrad.TiedArgs) { a.T = 3 }, "len(H) = 8, want 6"},
		{"long dZ", func(_ *[]float32, a *embgrad.TiedArgs) { a.DZ = append(a.DZ, 1) }, "len(dZ) = 13, want 12 (T*V = 4*3)"},
		{"dZ transposed shape", func(_ *[]float32, a *embgrad.TiedArgs) { a.DZ = a.DZ[:3*3] }, "len(dZ) = 9, want 12"},
		{"negative T", func(_ *[]float32, a *embgrad.TiedArgs) { a.T = -1 }, "negative T = -1"},
		{"dst is H", func(dst *[]float32, a *embgrad.TiedArgs) { a.T, a.H, a.DZ = 3, *dst, make([]float32, 3*3) }, "dst overlaps H"},
		{"dZ inside dst", func(dst *[]float32, a *embgrad.TiedArgs) {
			buf := make([]float32, 6+12)
			*dst, a.DZ = buf[:6], buf[5:17]
		}, "dst overlaps dZ"},
		{"D = 0, huge V", func(dst *[]float32, a *embgrad.TiedArgs) {
			*dst, a.V, a.D, a.GradOut, a.T, a.H, a.DZ = nil, 1<<40, 0, nil, 0, nil, nil
		}, "above MaxV"},
		{"T*V overflows", func(dst *[]float32, a *embgrad.TiedArgs) {
			*dst, a.D, a.T, a.GradOut, a.H = nil, 0, math.MaxInt/2, nil, nil
		}, "T*V"},
	} {
		dst, a := ok()
		tc.mutate(&dst, &a)
		checkInvalid(t, tc.name, embgrad.ValidateTied(dst, a), tc.want)
	}
}

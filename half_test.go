package embgrad

import (
	"errors"
	"testing"
)

func TestValidateHalfOptions(t *testing.T) {
	ids, g := []int32{0, 1}, make([]uint16, 4)
	ok := HalfOptions{Format: BFloat16}
	if err := ValidateHalf(make([]float32, 4), 2, 2, ids, g, ok); err != nil {
		t.Fatalf("valid call: %v", err)
	}
	if err := ValidateHalf16(make([]uint16, 4), 2, 2, ids, g, HalfOptions{Format: Float16, Rounding: Stochastic}); err != nil {
		t.Fatalf("valid stochastic call: %v", err)
	}
	for name, err := range map[string]error{
		"zero format":         ValidateHalf(make([]float32, 4), 2, 2, ids, g, HalfOptions{}),
		"stochastic into f32": ValidateHalf(make([]float32, 4), 2, 2, ids, g, HalfOptions{Format: BFloat16, Rounding: Stochastic}),
		"unknown rounding":    ValidateHalf16(make([]uint16, 4), 2, 2, ids, g, HalfOptions{Format: BFloat16, Rounding: 7}),
		"dst overlaps g":      ValidateHalf16(g, 2, 2, ids, g, ok),
		"short dst":           ValidateHalf16(make([]uint16, 3), 2, 2, ids, g, ok),
		"bad id":              ValidateHalf16(make([]uint16, 4), 2, 2, []int32{0, 2}, g, ok),
	} {
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
}

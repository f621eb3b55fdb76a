package embgrad_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
)

func bagArgs() embgrad.BagArgs {
	const V, D = 5, 2
	return embgrad.BagArgs{V: V, D: D, IDs: []int32{1, 2, 3, 4}, Offsets: []int32{0, 2, 2}, GradOut: make([]float32, 3*D)}
}

func TestValidateBag(t *testing.T) {
	dst := make([]float32, 10)
	ok := bagArgs()
	if err := embgrad.ValidateBag(dst, nil, ok); err != nil {
		t.Fatalf("valid args rejected: %v", err)
	}
	with := func(f func(a *embgrad.BagArgs)) embgrad.BagArgs { a := ok; f(&a); return a }
	for _, c := range []struct {
		a    embgrad.BagArgs
		dw   []float32
		want string
	}{
		{with(func(a *embgrad.BagArgs) { a.Offsets = []int32{1, 2, 2} }), nil, "offsets[0] = 1, want 0"},
		{with(func(a *embgrad.BagArgs) { a.Offsets = []int32{0, 3, 2} }), nil, "offsets[2] = 2 is below offsets[1] = 3"},
		{with(func(a *embgrad.BagArgs) { a.Offsets = []int32{0, 2, 5} }), nil, "offsets[2] = 5 is above len(ids) = 4"},
		{with(func(a *embgrad.BagArgs) { a.Opt.IncludeLastOffset = true; a.GradOut = make([]float32, 4) }), nil, "offsets[2] = 2, want len(ids) = 4"},
		{with(func(a *embgrad.BagArgs) { a.Opt.IncludeLastOffset = true; a.Offsets = nil }), nil, "needs at least one offset"},
		{with(func(a *embgrad.BagArgs) { a.Offsets = nil }), nil, "no offsets"},
		{with(func(a *embgrad.BagArgs) { a.IDs = []int32{1, 2, 5, 4} }), nil, "ids[2] = 5"},
		{with(func(a *embgrad.BagArgs) { a.GradOut = make([]float32, 5) }), nil, "len(gradOut) = 5, want 6"},
		{with(func(a *embgrad.BagArgs) { a.Opt.Mode = embgrad.BagMax; a.Opt.ScaleGradByFreq = true }), nil, "scale_grad_by_freq"},
		{with(func(a *embgrad.BagArgs) { a.Opt.Mode = embgrad.BagMean; a.Weights = make([]float32, 4) }), make([]float32, 4), "only supported in sum mode"},
		{with(func(a *embgrad.BagArgs) { a.Weights = make([]float32, 3) }), make([]float32, 3), "len(weights) = 3"},
		{with(func(a *embgrad.BagArgs) { a.Weights = make([]float32, 4) }), make([]float32, 4), "len(E) = 0"},
		{ok, make([]float32, 1), "len(dw) = 1, want 0"},
		{with(func(a *embgrad.BagArgs) { a.Opt.Mode = embgrad.BagMax }), nil, "len(maxIndices) = 0"},
		{with(func(a *embgrad.BagArgs) { a.MaxIndices = make([]int32, 6) }), nil, "only max mode"},
		{with(func(a *embgrad.BagArgs) {
			a.Opt.Mode = embgrad.BagMax
			a.MaxIndices = []int32{1, 2, 0, 0, 3, 4}
		}), nil, "maxIndices[2] = 0 (bag 1 col 0): bag 1 has no non-padding id, want -1"},
		{with(func(a *embgrad.BagArgs) {
			a.Opt.Mode = embgrad.BagMax
			a.MaxIndices = []int32{1, -1, -1, -1, 3, 4}
		}), nil, "maxIndices[1] = -1 (bag 0 col 1) is outside"},
		{with(func(a *embgrad.BagArgs) {
			a.Opt.Mode = embgrad.BagMax
			a.Opt.Options = a.Opt.WithPadding(4)
			a.MaxIndices = []int32{1, 2, -1, -1, 3, 4}
		}), nil, "is the padding id"},
		{with(func(a *embgrad.BagArgs) { a.GradOut = dst[4:10] }), nil, "dst overlaps gradOut"},
		{with(func(a *embgrad.BagArgs) { a.Opt.Mode = 7 }), nil, "unknown bag mode"},
	} {
		before := append([]float32(nil), dst...)
		err := embgrad.ValidateBag(dst, c.dw, c.a)
		if err == nil || !errors.Is(err, embgrad.ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an ErrInvalidInput containing %q, got %v", c.want, err)
		}
		for k := range dst {
			if dst[k] != before[k] {
				t.Fatal("validation wrote dst")
			}
		}
	}
}

func TestBagForwardMaxTiesKeepFirst(t *testing.T) {
	const V, D = 4, 3
	E := []float32{
		1, 5, 0, // row 0
		1, 7, 0, // row 1
		0, 7, 2, // row 2
		9, 9, 9, // row 3 (padding)
	}
	ids := []int32{3, 0, 1, 2, 3}
	offsets := []int32{0, 4, 5}
	out := make([]float32, 3*D)
	idx := make([]int32, 3*D)
	opt := embgrad.BagOptions{Mode: embgrad.BagMax, Options: embgrad.Options{}.WithPadding(3)}
	if err := embgrad.BagForward(out, idx, E, V, D, ids, offsets, nil, opt); err != nil {
		t.Fatal(err)
	}
	wantOut := []float32{1, 7, 2, 0, 0, 0, 0, 0, 0}
	wantIdx := []int32{0, 1, 2, -1, -1, -1, -1, -1, -1}
	for k := range out {
		if out[k] != wantOut[k] || idx[k] != wantIdx[k] {
			t.Fatalf("out %v idx %v, want %v %v", out, idx, wantOut, wantIdx)
		}
	}
	a := embgrad.BagArgs{V: V, D: D, IDs: ids, Offsets: offsets, GradOut: out, MaxIndices: idx, Opt: opt}
	if err := embgrad.ValidateBag(make([]float32, V*D), nil, a); err != nil {
		t.Errorf("the forward's own indices rejected: %v", err)
	}
}

func TestBagForwardMean(t *testing.T) {
	E := []float32{1, 2, 4, 8}
	out := make([]float32, 2)
	opt := embgrad.BagOptions{Mode: embgrad.BagMean, Options: embgrad.Options{}.WithPadding(0)}
	if err := embgrad.BagForward(out, nil, E, 4, 1, []int32{1, 0, 2, 3}, []int32{0, 3}, nil, opt); err != nil {
		t.Fatal(err)
	}
	if out[0] != 3 || out[1] != 8 {
		t.Errorf("mean %v, want [3 8] (padding out of the divisor)", out)
	}
	if err := embgrad.BagForward(out, nil, E, 4, 1, []int32{1, 0}, []int32{0, 1}, []float32{1, 1}, opt); err == nil {
		t.Error("weights accepted in mean mode")
	}
}

package suite

import (
	"fmt"
	"math/rand/v2"

	"github.com/embgrad/embgrad"
)

// BagFunc is the shape of embgrad.BagKernel.BagBackward (and of
// embgrad.BagScratch bound to a kernel).
type BagFunc func(dst, dw []float32, a embgrad.BagArgs) error

// Bag calls f through Call on guarded copies of dst and dw (outputs) and of
// every input of a (ids, offsets, gradOut, weights, E, maxIndices), and
// returns dst and dw after the call (also when f failed) and f's error or
// the violation. A nil input stays nil (nil weights mean unweighted), so
// only non-nil inputs are guarded.
func Bag(f BagFunc, dst, dw []float32, a embgrad.BagArgs) ([]float32, []float32, error) {
	out, w := Out("dst", dst), Out("dw", dw)
	bufs := []*Buf{out, w}
	f32 := func(name string, x []float32) func() []float32 {
		if x == nil {
			return func() []float32 { return nil }
		}
		b := In(name, x)
		bufs = append(bufs, b)
		return b.F32
	}
	i32 := func(name string, x []int32) func() []int32 {
		if x == nil {
			return func() []int32 { return nil }
		}
		b := InIDs(name, x)
		bufs = append(bufs, b)
		return b.I32
	}
	ids, offs, mi := i32("ids", a.IDs), i32("offsets", a.Offsets), i32("maxIndices", a.MaxIndices)
	g, ws, E := f32("gradOut", a.GradOut), f32("weights", a.Weights), f32("E", a.E)
	b := a
	b.IDs, b.Offsets, b.MaxIndices, b.GradOut, b.Weights, b.E = ids(), offs(), mi(), g(), ws(), E()
	err := Call(func() error { return f(out.F32(), w.F32(), b) }, bufs...)
	return out.F32(), w.F32(), err
}

// BagSpec is the shape of a generated bag case.
type BagSpec struct {
	V, D, B int
	MaxL    int // bag lengths drawn from [0, MaxL]
	Mode    embgrad.BagMode
	Rows    int  // ids drawn from [0, Rows) (0: V), so fewer rows give duplicates
	Pad     bool // a padding id, drawn among the ids used
	Scale   bool // ScaleGradByFreq
	Weights bool // per-sample weights (sum mode)
	Last    bool // IncludeLastOffset
	Empty   bool // some bags empty
	Pow2    bool // every bag's length a power of two (and no padding): mean's 1/n exact
	Kind    ValueKind
}

// BagCase is one generated bag call: the arguments (MaxIndices from
// embgrad.BagForward on E in max mode) and the spec they came from.
type BagCase struct {
	Spec BagSpec
	A    embgrad.BagArgs
}

// NewBagCase draws a case of spec s from rng: values of s.Kind for
// gradOut, the weights and E (E always set, so max mode's forward and the
// weight gradient have a table).
func NewBagCase(rng *rand.Rand, s BagSpec) *BagCase {
	rows := s.Rows
	if rows <= 0 || rows > s.V {
		rows = s.V
	}
	a := embgrad.BagArgs{V: s.V, D: s.D, Opt: embgrad.BagOptions{Mode: s.Mode, IncludeLastOffset: s.Last}}
	a.Opt.ScaleGradByFreq = s.Scale
	a.Offsets = make([]int32, 0, s.B+1)
	for range s.B {
		a.Offsets = append(a.Offsets, int32(len(a.IDs)))
		L := rng.IntN(s.MaxL + 1)
		if s.Pow2 {
			L = 1 << rng.IntN(4)
		}
		if s.Empty && rng.IntN(4) == 0 {
			L = 0
		}
		for range L {
			a.IDs = append(a.IDs, int32(rng.IntN(rows)))
		}
	}
	if a.IDs == nil {
		a.IDs = []int32{}
	}
	if s.Last {
		a.Offsets = append(a.Offsets, int32(len(a.IDs)))
	}
	if s.Pad && !s.Pow2 && len(a.IDs) > 0 {
		a.Opt.Options = a.Opt.WithPadding(a.IDs[rng.IntN(len(a.IDs))])
	}
	a.GradOut = Fill(rng, s.B*s.D, s.Kind)
	a.E = Fill(rng, s.V*s.D, s.Kind)
	if s.Weights {
		wk := s.Kind
		if wk == Dyadic {
			wk = Normal
		}
		a.Weights = make([]float32, len(a.IDs))
		for i := range a.Weights {
			a.Weights[i] = Value(rng, wk)
			if s.Kind == Dyadic {
				a.Weights[i] = float32(rng.IntN(33)-16) / 16 // products with dyadic gradOut stay exact
			}
		}
	}
	if s.Mode == embgrad.BagMax {
		a.MaxIndices = make([]int32, s.B*s.D)
		if err := embgrad.BagForward(make([]float32, s.B*s.D), a.MaxIndices, a.E, a.V, a.D, a.IDs, a.Offsets, nil, a.Opt); err != nil {
			panic("suite: NewBagCase built invalid input: " + err.Error())
		}
	}
	return &BagCase{Spec: s, A: a}
}

// Size is the case's shape in a few words.
func (c *BagCase) Size() string {
	a := c.A
	pad := "none"
	if a.Opt.HasPadding {
		pad = fmt.Sprint(a.Opt.PaddingIdx)
	}
	return fmt.Sprintf("mode=%v V=%d D=%d B=%d N=%d pad=%s scale=%v weights=%v last_offset=%v",
		a.Opt.Mode, a.V, a.D, a.Bags(), len(a.IDs), pad, a.Opt.ScaleGradByFreq, a.Weights != nil, a.Opt.IncludeLastOffset)
}

// String is Size with the ids and offsets when they are short.
func (c *BagCase) String() string {
	s := c.Size()
	if len(c.A.IDs) <= 16 {
		s += fmt.Sprintf(" ids=%v offsets=%v", c.A.IDs, c.A.Offsets)
	}
	return s
}

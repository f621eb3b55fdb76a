package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/optim"
)

// The hostile inputs of the newer forms: bag, 16-bit, optimizer step (both
// forms), norms and clipping. Each case builds fresh buffers for one kernel
// and returns the call and a function that snapshots every output and
// state buffer as bytes, so that the verdict can require them bit-for-bit
// unchanged after the rejected call.
type hostile[K any] struct {
	name  string
	build func(k K) (outs func() []byte, call func() error)
}

// snap returns a function that serializes the current contents of each
// buffer: slices of float32, int32, uint16, float64, a *optim.State (its
// slices and Step) or an *int64.
func snap(parts ...any) func() []byte {
	return func() []byte {
		var b bytes.Buffer
		raw := func(p unsafe.Pointer, n int) {
			if n > 0 {
				b.Write(unsafe.Slice((*byte)(p), n))
			}
			fmt.Fprintf(&b, "|%d|", n)
		}
		for _, p := range parts {
			switch x := p.(type) {
			case []float32:
				raw(unsafe.Pointer(unsafe.SliceData(x)), 4*len(x))
			case []int32:
				raw(unsafe.Pointer(unsafe.SliceData(x)), 4*len(x))
			case []uint16:
				raw(unsafe.Pointer(unsafe.SliceData(x)), 2*len(x))
			case []float64:
				raw(unsafe.Pointer(unsafe.SliceData(x)), 8*len(x))
			case *optim.State:
				if x == nil {
					b.WriteString("nil")
					continue
				}
				raw(unsafe.Pointer(unsafe.SliceData(x.Momentum1)), 4*len(x.Momentum1))
				raw(unsafe.Pointer(unsafe.SliceData(x.Momentum2)), 4*len(x.Momentum2))
				fmt.Fprintf(&b, "step %d", x.Step)
			case *[]gradnorm.Grad:
				for _, g := range *x {
					raw(unsafe.Pointer(unsafe.SliceData(g.Values)), 4*len(g.Values))
					raw(unsafe.Pointer(unsafe.SliceData(g.Rows)), 4*len(g.Rows))
				}
			default:
				panic(fmt.Sprintf("snap: %T", p))
			}
		}
		return b.Bytes()
	}
}

// verdictOf runs one hostile call: the error text, or what went wrong.
func verdictOf(outs func() []byte, call func() error) (msg, fault string) {
	before := bytes.Clone(outs())
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				fault = fmt.Sprintf("panic: %v", r)
			}
		}()
		err = call()
	}()
	switch {
	case fault != "":
	case err == nil:
		fault = "no error"
	case !errors.Is(err, embgrad.ErrInvalidInput):
		fault = fmt.Sprintf("error does not wrap ErrInvalidInput: %v", err)
	case !bytes.Equal(before, outs()):
		fault = "an output or state buffer changed"
	}
	if err != nil {
		msg = err.Error()
	}
	return msg, fault
}

// runForm tries each case on every kernel and writes one table row per case.
func runForm[K any](row func(string, int, []string, []string), kernels []K, name func(K) string, cases []hostile[K]) {
	for _, c := range cases {
		var msgs, faults []string
		for _, k := range kernels {
			outs, call := c.build(k)
			msg, fault := verdictOf(outs, call)
			msgs = append(msgs, msg)
			if fault != "" {
				faults = append(faults, name(k)+": "+fault)
			}
		}
		row(c.name, len(kernels), msgs, faults)
	}
}

// f32view and i32view are views of another buffer's memory, for the
// overlap cases.
func f32view[T any](x []T, n int) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), n)
}
func i32view[T any](x []T, n int) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(x))), n)
}
func u16view[T any](x []T, n int) []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(x))), n)
}
func f64view[T any](x []T, n int) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(x))), n)
}

// ---- bag ----

// bagBase is a valid sum-mode call: V=5, D=3, three bags over six ids.
func bagBase() (dst, dw []float32, a embgrad.BagArgs) {
	dst, ids, g := dense(5, 3, 6)
	a = embgrad.BagArgs{V: 5, D: 3, IDs: ids, Offsets: []int32{0, 2, 4}, GradOut: g[:9]}
	return dst, nil, a
}

// withWeights makes a valid weighted sum call of a.
func withWeights(dw *[]float32, a *embgrad.BagArgs) {
	a.Weights = []float32{1, 2, 3, 4, 5, 6}
	a.E = make([]float32, a.V*a.D)
	*dw = []float32{9, 9, 9, 9, 9, 9}
}

// withMax makes a valid max call of a (every bag non-empty, id 0 wins).
func withMax(a *embgrad.BagArgs) {
	a.Opt.Mode = embgrad.BagMax
	a.MaxIndices = make([]int32, 9)
	for b := range 3 {
		for j := range 3 {
			a.MaxIndices[b*3+j] = a.IDs[2*b]
		}
	}
}

func bagCase(name string, scratch bool, edit func(dst, dw *[]float32, a *embgrad.BagArgs)) hostile[embgrad.BagKernel] {
	return hostile[embgrad.BagKernel]{name, func(k embgrad.BagKernel) (func() []byte, func() error) {
		dst, dw, a := bagBase()
		edit(&dst, &dw, &a)
		outs := snap(dst, dw)
		if scratch {
			return outs, func() error { return embgrad.BagScratch(k, dst, dw, a) }
		}
		return outs, func() error { return k.BagBackward(dst, dw, a) }
	}}
}

type bagEdit = func(dst, dw *[]float32, a *embgrad.BagArgs)

var bagEdits = []struct {
	name string
	edit bagEdit
}{
	{"id = V", func(_, _ *[]float32, a *embgrad.BagArgs) { a.IDs[4] = 5 }},
	{"negative id", func(_, _ *[]float32, a *embgrad.BagArgs) { a.IDs[0] = -1 }},
	{"offsets[0] = 1", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Offsets[0] = 1 }},
	{"decreasing offsets", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Offsets = []int32{0, 4, 2} }},
	{"negative offset", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Offsets = []int32{0, -2, 4} }},
	{"offset past len(ids)", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Offsets[2] = 7 }},
	{"include_last_offset, last < len(ids)", func(_, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.IncludeLastOffset, a.Offsets = true, []int32{0, 2, 4, 5}
	}},
	{"include_last_offset, no offsets", func(_, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.IncludeLastOffset, a.Offsets, a.GradOut = true, nil, nil
	}},
	{"include_last_offset, empty (not nil) offsets", func(_, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.IncludeLastOffset, a.Offsets, a.GradOut = true, []int32{}, []float32{}
	}},
	{"no offsets but ids", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Offsets, a.GradOut = nil, nil }},
	{"gradOut one row short", func(_, _ *[]float32, a *embgrad.BagArgs) { a.GradOut = a.GradOut[:6] }},
	{"dst one element short", func(dst, _ *[]float32, _ *embgrad.BagArgs) { *dst = (*dst)[:14] }},
	{"negative D", func(_, _ *[]float32, a *embgrad.BagArgs) { a.D = -3 }},
	{"V·D overflows int", func(_, _ *[]float32, a *embgrad.BagArgs) { a.V, a.D = 1<<31, 1<<33 }},
	{"B·D overflows int", func(dst, _ *[]float32, a *embgrad.BagArgs) {
		a.V, a.D, *dst = 0, math.MaxInt/2, nil
	}},
	{"V above MaxV with D = 0", func(dst, _ *[]float32, a *embgrad.BagArgs) {
		a.V, a.D, *dst, a.GradOut = 1<<47, 0, nil, nil
	}},
	{"padding index = V", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Opt.Options = a.Opt.WithPadding(5) }},
	{"negative padding index", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Opt.Options = a.Opt.WithPadding(-1) }},
	{"unknown mode 3", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Opt.Mode = 3 }},
	{"negative mode", func(_, _ *[]float32, a *embgrad.BagArgs) { a.Opt.Mode = -1 }},
	{"weights in mean mode", func(_, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); a.Opt.Mode = embgrad.BagMean }},
	{"weights in max mode", func(_, dw *[]float32, a *embgrad.BagArgs) { withMax(a); withWeights(dw, a) }},
	{"weights one short", func(_, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); a.Weights = a.Weights[:5] }},
	{"weights empty (not nil)", func(_, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); a.Weights = []float32{} }},
	{"weights without E", func(_, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); a.E = nil }},
	{"weights, dw one short", func(_, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); *dw = (*dw)[:5] }},
	{"dw without weights", func(_, dw *[]float32, _ *embgrad.BagArgs) { *dw = []float32{9, 9, 9, 9, 9, 9} }},
	{"dst overlaps gradOut", func(dst, _ *[]float32, a *embgrad.BagArgs) { a.GradOut = (*dst)[6:15] }},
	{"dst overlaps dw", func(dst, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); *dw = (*dst)[9:15] }},
	{"dw overlaps weights", func(_, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); a.Weights = *dw }},
	{"dw overlaps E", func(_, dw *[]float32, a *embgrad.BagArgs) {
		withWeights(dw, a)
		*dw = a.E[:6]
	}},
	{"dst is E", func(dst, dw *[]float32, a *embgrad.BagArgs) { withWeights(dw, a); a.E = *dst }},
	{"offsets lie inside dst", func(dst, _ *[]float32, a *embgrad.BagArgs) {
		(*dst)[0], (*dst)[1], (*dst)[2] = 0, 0, 0
		a.Offsets = i32view((*dst), 3)
	}},
	{"ids lie inside dw", func(_, dw *[]float32, a *embgrad.BagArgs) {
		withWeights(dw, a)
		*dw = make([]float32, 6)
		a.IDs = i32view(*dw, 6)
	}},
	{"max: scale_grad_by_freq", func(_, _ *[]float32, a *embgrad.BagArgs) { withMax(a); a.Opt.ScaleGradByFreq = true }},
	{"max: nil maxIndices", func(_, _ *[]float32, a *embgrad.BagArgs) { withMax(a); a.MaxIndices = nil }},
	{"max: maxIndices one short", func(_, _ *[]float32, a *embgrad.BagArgs) { withMax(a); a.MaxIndices = a.MaxIndices[:8] }},
	{"max: maxIndices id = V", func(_, _ *[]float32, a *embgrad.BagArgs) { withMax(a); a.MaxIndices[4] = 5 }},
	{"max: maxIndices -1 in a non-empty bag", func(_, _ *[]float32, a *embgrad.BagArgs) { withMax(a); a.MaxIndices[2] = -1 }},
	{"max: maxIndices -2", func(_, _ *[]float32, a *embgrad.BagArgs) { withMax(a); a.MaxIndices[2] = -2 }},
	{"max: maxIndices is the padding id", func(_, _ *[]float32, a *embgrad.BagArgs) {
		withMax(a)
		a.Opt.Options = a.Opt.WithPadding(3)
		a.MaxIndices[3] = 3
	}},
	{"max: maxIndices set for an empty bag", func(_, _ *[]float32, a *embgrad.BagArgs) {
		withMax(a)
		a.Offsets = []int32{0, 2, 2}
		for j := range 3 {
			a.MaxIndices[3+j] = 1
		}
	}},
	{"max: maxIndices overlap dst", func(dst, _ *[]float32, a *embgrad.BagArgs) {
		withMax(a)
		v := i32view(*dst, 9)
		copy(v, a.MaxIndices)
		a.MaxIndices = v
	}},
	{"sum: maxIndices given", func(_, _ *[]float32, a *embgrad.BagArgs) { a.MaxIndices = make([]int32, 9) }},
	{"sum: empty (not nil) maxIndices", func(_, _ *[]float32, a *embgrad.BagArgs) { a.MaxIndices = []int32{} }},
}

func bagCases() []hostile[embgrad.BagKernel] {
	var cs []hostile[embgrad.BagKernel]
	for _, e := range bagEdits {
		cs = append(cs, bagCase("bag: "+e.name, false, e.edit))
	}
	for _, i := range []int{0, 3, 27, 37} {
		cs = append(cs, bagCase("bag scratch: "+bagEdits[i].name, true, bagEdits[i].edit))
	}
	return cs
}

// ---- 16-bit ----

type halfEdit = func(V, D *int, ids *[]int32, g *[]uint16, opt *embgrad.HalfOptions, dst32 *[]float32, dst16 *[]uint16)

var halfEdits = []struct {
	name string
	edit halfEdit
}{
	{"zero format", func(_, _ *int, _ *[]int32, _ *[]uint16, o *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		o.Format = 0
	}},
	{"format 3", func(_, _ *int, _ *[]int32, _ *[]uint16, o *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		o.Format = 3
	}},
	{"rounding 2", func(_, _ *int, _ *[]int32, _ *[]uint16, o *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		o.Rounding = 2
	}},
	{"id = V", func(_, _ *int, ids *[]int32, _ *[]uint16, _ *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		(*ids)[3] = 5
	}},
	{"negative id", func(_, _ *int, ids *[]int32, _ *[]uint16, _ *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		(*ids)[0] = -7
	}},
	{"dst one element short", func(_, _ *int, _ *[]int32, _ *[]uint16, _ *embgrad.HalfOptions, d32 *[]float32, d16 *[]uint16) {
		if *d16 != nil {
			*d16 = (*d16)[:14]
		} else {
			*d32 = (*d32)[:14]
		}
	}},
	{"gradOut one element long", func(_, _ *int, _ *[]int32, g *[]uint16, _ *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		*g = append(*g, 0x3c00)
	}},
	{"gradOut nil with ids", func(_, _ *int, _ *[]int32, g *[]uint16, _ *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) { *g = nil }},
	{"padding index = V", func(_, _ *int, _ *[]int32, _ *[]uint16, o *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		o.Options = o.WithPadding(5)
	}},
	{"negative padding index", func(_, _ *int, _ *[]int32, _ *[]uint16, o *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		o.Options = o.WithPadding(-1)
	}},
	{"V·D overflows int", func(V, D *int, _ *[]int32, _ *[]uint16, _ *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
		*V, *D = 1<<31, 1<<33
	}},
	{"V above MaxV with D = 0", func(V, D *int, _ *[]int32, g *[]uint16, _ *embgrad.HalfOptions, d32 *[]float32, d16 *[]uint16) {
		*V, *D, *g, *d32, *d16 = 1<<47, 0, nil, nil, nil
	}},
	{"dst overlaps gradOut", func(_, _ *int, _ *[]int32, g *[]uint16, _ *embgrad.HalfOptions, d32 *[]float32, d16 *[]uint16) {
		if *d16 != nil {
			*g = (*d16)[3:15]
		} else {
			*g = u16view(*d32, 12)
		}
	}},
	{"ids lie inside dst", func(_, _ *int, ids *[]int32, _ *[]uint16, _ *embgrad.HalfOptions, d32 *[]float32, d16 *[]uint16) {
		if *d16 != nil {
			clear(*d16)
			*ids = i32view(*d16, 4)
		} else {
			clear(*d32)
			*ids = i32view(*d32, 4)
		}
	}},
}

// halfBase is a valid call: V=5, D=3, four ids, gradOut of small bf16
// values, dst prefilled.
func halfBase(sixteen bool) (V, D int, ids []int32, g []uint16, opt embgrad.HalfOptions, d32 []float32, d16 []uint16) {
	ids = []int32{0, 1, 2, 1}
	g = make([]uint16, 12)
	for i := range g {
		g[i] = 0x3f80 + uint16(i) // bf16 values near 1
	}
	if sixteen {
		d16 = make([]uint16, 15)
		for i := range d16 {
			d16[i] = 0x4000 + uint16(i)
		}
	} else {
		d32, _, _ = dense(5, 3, 0)
	}
	return 5, 3, ids, g, embgrad.HalfOptions{Format: embgrad.BFloat16}, d32, d16
}

func halfCases() []hostile[registry.HalfKernel] {
	var cs []hostile[registry.HalfKernel]
	for _, sixteen := range []bool{false, true} {
		prefix := "half (float32 dst): "
		if sixteen {
			prefix = "half16 (16-bit dst): "
		}
		edits := halfEdits
		if !sixteen {
			edits = append(edits[:len(edits):len(edits)], struct {
				name string
				edit halfEdit
			}{"stochastic rounding", func(_, _ *int, _ *[]int32, _ *[]uint16, o *embgrad.HalfOptions, _ *[]float32, _ *[]uint16) {
				o.Rounding = embgrad.Stochastic
			}})
		}
		for _, e := range edits {
			cs = append(cs, hostile[registry.HalfKernel]{prefix + e.name, func(k registry.HalfKernel) (func() []byte, func() error) {
				V, D, ids, g, opt, d32, d16 := halfBase(sixteen)
				e.edit(&V, &D, &ids, &g, &opt, &d32, &d16)
				if sixteen {
					return snap(d16), func() error { return k.BackwardHalf16(d16, V, D, ids, g, opt) }
				}
				return snap(d32), func() error { return k.BackwardHalf(d32, V, D, ids, g, opt) }
			}})
		}
	}
	return cs
}

// ---- optimizer steps ----

// stepArgs are one step call's arguments (both forms).
type stepArgs struct {
	w      []float32
	st     *optim.State
	V, D   int
	rows   []int32
	values []float32
	U      int
	ids    []int32
	g      []float32
	opt    embgrad.Options
	o      optim.Optimizer
}

var (
	sgd     = optim.SGD{LR: 0.5, WeightDecay: 0.25}
	adagrad = optim.Adagrad{LR: 0.5, Eps: 1e-8, WeightDecay: 0.25}
	adam    = optim.Adam{LR: 0.5, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
)

// stepBase is a valid call with optimizer o: V=4, D=3, rows {0, 2}, ids
// {2, 0, 2}, state prefilled with non-zero values.
func stepBase(o optim.Optimizer) *stepArgs {
	a := &stepArgs{V: 4, D: 3, rows: []int32{0, 2}, U: 2, ids: []int32{2, 0, 2}, o: o}
	a.w, _, _ = dense(4, 3, 0)
	a.values = []float32{1, -1, 2, 0.5, 3, -2}
	a.g = []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	st := o.NewState(4, 3)
	for i := range st.Momentum1 {
		st.Momentum1[i] = float32(i + 1)
	}
	for i := range st.Momentum2 {
		st.Momentum2[i] = float32(i + 2)
	}
	st.Step = 7
	a.st = &st
	return a
}

type stepEdit struct {
	name string
	o    optim.Optimizer // the base optimizer
	edit func(a *stepArgs)
}

func nan32() float32 { return float32(math.NaN()) }
func inf32() float32 { return float32(math.Inf(1)) }

// hyperEdits are the optimizer's hostile hyper-parameters and state, for
// both forms.
var hyperEdits = []stepEdit{
	{"sgd: LR NaN", sgd, func(a *stepArgs) { a.o = optim.SGD{LR: nan32()} }},
	{"sgd: LR −1", sgd, func(a *stepArgs) { a.o = optim.SGD{LR: -1} }},
	{"sgd: LR +Inf", sgd, func(a *stepArgs) { a.o = optim.SGD{LR: inf32()} }},
	{"sgd: WeightDecay NaN", sgd, func(a *stepArgs) { a.o = optim.SGD{LR: 1, WeightDecay: nan32()} }},
	{"sgd: WeightDecay −0.5", sgd, func(a *stepArgs) { a.o = optim.SGD{LR: 1, WeightDecay: -0.5} }},
	{"sgd: state given", sgd, func(a *stepArgs) { a.st.Momentum1 = make([]float32, 4) }},
	{"adagrad: Eps 0", adagrad, func(a *stepArgs) { a.o = optim.Adagrad{LR: 1, Eps: 0} }},
	{"adagrad: Eps −1e-8", adagrad, func(a *stepArgs) { a.o = optim.Adagrad{LR: 1, Eps: -1e-8} }},
	{"adagrad: Eps NaN", adagrad, func(a *stepArgs) { a.o = optim.Adagrad{LR: 1, Eps: nan32()} }},
	{"adagrad: Eps +Inf", adagrad, func(a *stepArgs) { a.o = optim.Adagrad{LR: 1, Eps: inf32()} }},
	{"adagrad: LR −Inf", adagrad, func(a *stepArgs) { a.o = optim.Adagrad{LR: -inf32(), Eps: 1} }},
	{"adagrad: WeightDecay +Inf (decoupled)", adagrad, func(a *stepArgs) {
		a.o = optim.Adagrad{LR: 1, Eps: 1, WeightDecay: inf32(), Decoupled: true}
	}},
	{"adagrad: state V·D long (Adam's size)", adagrad, func(a *stepArgs) { a.st.Momentum1 = make([]float32, 12) }},
	{"adagrad: state one short", adagrad, func(a *stepArgs) { a.st.Momentum1 = a.st.Momentum1[:3] }},
	{"adagrad: Momentum2 given", adagrad, func(a *stepArgs) { a.st.Momentum2 = make([]float32, 12) }},
	{"adagrad: nil state", adagrad, func(a *stepArgs) { a.st = nil }},
	{"adam: Beta1 = 1", adam, func(a *stepArgs) { o := adam; o.Beta1 = 1; a.o = o }},
	{"adam: Beta1 −0.1", adam, func(a *stepArgs) { o := adam; o.Beta1 = -0.1; a.o = o }},
	{"adam: Beta1 NaN", adam, func(a *stepArgs) { o := adam; o.Beta1 = nan32(); a.o = o }},
	{"adam: Beta2 = 1", adam, func(a *stepArgs) { o := adam; o.Beta2 = 1; a.o = o }},
	{"adam: Beta2 +Inf", adam, func(a *stepArgs) { o := adam; o.Beta2 = inf32(); a.o = o }},
	{"adam: Eps 0", adam, func(a *stepArgs) { o := adam; o.Eps = 0; a.o = o }},
	{"adam: Eps NaN", adam, func(a *stepArgs) { o := adam; o.Eps = nan32(); a.o = o }},
	{"adam: LR NaN", adam, func(a *stepArgs) { o := adam; o.LR = nan32(); a.o = o }},
	{"adam: LR −0.5", adam, func(a *stepArgs) { o := adam; o.LR = -0.5; a.o = o }},
	{"adam: Momentum1 one short", adam, func(a *stepArgs) { a.st.Momentum1 = a.st.Momentum1[:11] }},
	{"adam: Momentum2 nil", adam, func(a *stepArgs) { a.st.Momentum2 = nil }},
	{"adam: Momentum1 empty (not nil)", adam, func(a *stepArgs) { a.st.Momentum1 = []float32{} }},
	{"adam: Step −1", adam, func(a *stepArgs) { a.st.Step = -1 }},
	{"adam: Step = MaxInt64", adam, func(a *stepArgs) { a.st.Step = math.MaxInt64 }},
	{"adam: Momentum1 overlaps Momentum2", adam, func(a *stepArgs) { a.st.Momentum2 = a.st.Momentum1 }},
	{"adam: Momentum2 overlaps w", adam, func(a *stepArgs) {
		a.st.Momentum2 = append(a.w, make([]float32, 12)...)[:12]
		a.w = a.st.Momentum2[:12]
	}},
	{"adagrad: Momentum1 inside w", adagrad, func(a *stepArgs) { a.st.Momentum1 = a.w[4:8] }},
	{"nil optimizer", sgd, func(a *stepArgs) { a.o = nil }},
	{"w one element short", sgd, func(a *stepArgs) { a.w = a.w[:11] }},
	{"negative V", sgd, func(a *stepArgs) { a.V = -4 }},
	{"V·D overflows int", sgd, func(a *stepArgs) { a.V, a.D = 1<<31, 1<<33 }},
	{"V above MaxV with D = 0", sgd, func(a *stepArgs) {
		a.V, a.D, a.w, a.values, a.g = 1<<47, 0, nil, nil, nil
	}},
}

// stepOnly are the hostile sparse gradients of a Stepper call.
var stepOnly = []stepEdit{
	{"rows descending", sgd, func(a *stepArgs) { a.rows = []int32{2, 0} }},
	{"rows repeated", adam, func(a *stepArgs) { a.rows = []int32{2, 2} }},
	{"row = V", adagrad, func(a *stepArgs) { a.rows[1] = 4 }},
	{"negative row", sgd, func(a *stepArgs) { a.rows[0] = -1 }},
	{"U > len(rows)", sgd, func(a *stepArgs) { a.U = 3; a.values = append(a.values, 1, 2, 3) }},
	{"negative U", sgd, func(a *stepArgs) { a.U = -1 }},
	{"values shorter than U·D", adam, func(a *stepArgs) { a.values = a.values[:5] }},
	{"U·D overflows int", sgd, func(a *stepArgs) {
		a.D, a.V, a.w = math.MaxInt/2+1, 0, nil
		a.rows = nil
		a.U = 2
		a.rows = []int32{0, 1}
	}},
	{"w overlaps values", sgd, func(a *stepArgs) { a.values = a.w[6:12] }},
	{"Momentum1 overlaps values", adam, func(a *stepArgs) { a.values = a.st.Momentum1[:6] }},
	{"rows lie inside Momentum2", adam, func(a *stepArgs) {
		a.st.Momentum2[0], a.st.Momentum2[1] = math.Float32frombits(0), math.Float32frombits(2)
		a.rows = i32view(a.st.Momentum2, 2)
	}},
}

// fusedOnly are the hostile ids and gradOut of a Fused call.
var fusedOnly = []stepEdit{
	{"id = V", adam, func(a *stepArgs) { a.ids[2] = 4 }},
	{"negative id", adagrad, func(a *stepArgs) { a.ids[0] = -1 }},
	{"padding index = V", sgd, func(a *stepArgs) { a.opt = a.opt.WithPadding(4) }},
	{"negative padding index", sgd, func(a *stepArgs) { a.opt = a.opt.WithPadding(-1) }},
	{"gradOut one row short", sgd, func(a *stepArgs) { a.g = a.g[:6] }},
	{"gradOut nil with ids", sgd, func(a *stepArgs) { a.g = nil }},
	{"w overlaps gradOut", sgd, func(a *stepArgs) { a.g = a.w[3:12] }},
	{"Momentum1 overlaps gradOut", adam, func(a *stepArgs) { a.g = a.st.Momentum1[:9] }},
	{"ids lie inside Momentum1 (adagrad)", adagrad, func(a *stepArgs) {
		clear(a.st.Momentum1)
		a.ids = i32view(a.st.Momentum1, 3)
	}},
	{"ids lie inside w", sgd, func(a *stepArgs) {
		clear(a.w)
		a.ids = i32view(a.w, 3)
	}},
}

func stepCases() []hostile[optim.Stepper] {
	var cs []hostile[optim.Stepper]
	for _, e := range append(hyperEdits[:len(hyperEdits):len(hyperEdits)], stepOnly...) {
		cs = append(cs, hostile[optim.Stepper]{"step: " + e.name, func(k optim.Stepper) (func() []byte, func() error) {
			a := stepBase(e.o)
			e.edit(a)
			return snap(a.w, a.st), func() error { return k.Step(a.w, a.st, a.V, a.D, a.rows, a.values, a.U, a.o) }
		}})
	}
	return cs
}

func fusedCases() []hostile[optim.Fused] {
	var cs []hostile[optim.Fused]
	for _, e := range append(hyperEdits[:len(hyperEdits):len(hyperEdits)], fusedOnly...) {
		cs = append(cs, hostile[optim.Fused]{"fused: " + e.name, func(k optim.Fused) (func() []byte, func() error) {
			a := stepBase(e.o)
			e.edit(a)
			return snap(a.w, a.st), func() error { return k.Fused(a.w, a.st, a.V, a.D, a.ids, a.g, a.opt, a.o) }
		}})
	}
	return cs
}

// ---- norms and clipping ----

// normGrads is a valid set of gradients: a dense 3×2 and a sparse one
// (rows 1, 4 of a 6×2 table).
func normGrads() []gradnorm.Grad {
	return []gradnorm.Grad{
		gradnorm.Dense([]float32{1, 2, 3, 4, 5, 6}, 3, 2),
		gradnorm.SparseGrad([]int32{1, 4}, []float32{7, 8, 9, 10}, 6, 2),
	}
}

func clipCase(name string, maxNorm, p float64, nonfinite bool, edit func(gs []gradnorm.Grad) []gradnorm.Grad) hostile[gradnorm.Impl] {
	return hostile[gradnorm.Impl]{"clip: " + name, func(k gradnorm.Impl) (func() []byte, func() error) {
		gs := edit(normGrads())
		return snap(&gs), func() error { _, err := k.ClipGradNorm(gs, maxNorm, p, nonfinite); return err }
	}}
}

func totalCase(name string, p float64, edit func(gs []gradnorm.Grad) []gradnorm.Grad) hostile[gradnorm.Impl] {
	return hostile[gradnorm.Impl]{"total norm: " + name, func(k gradnorm.Impl) (func() []byte, func() error) {
		gs := edit(normGrads())
		return snap(&gs), func() error { _, err := k.TotalNorm(gs, p); return err }
	}}
}

func rowNormsCase(name string, edit func(dst *[]float64, g *gradnorm.Grad)) hostile[gradnorm.Impl] {
	return hostile[gradnorm.Impl]{"row norms: " + name, func(k gradnorm.Impl) (func() []byte, func() error) {
		g := normGrads()[1]
		dst := []float64{-1, -2}
		edit(&dst, &g)
		gs := []gradnorm.Grad{g}
		return snap(dst, &gs), func() error { return k.RowNorms(dst, g) }
	}}
}

func same(gs []gradnorm.Grad) []gradnorm.Grad { return gs }

func normCases() []hostile[gradnorm.Impl] {
	nan, inf := math.NaN(), math.Inf(1)
	cs := []hostile[gradnorm.Impl]{
		totalCase("p = 0", 0, same),
		totalCase("p = NaN", nan, same),
		totalCase("p = −1", -1, same),
		totalCase("p = 1 (unsupported)", 1, same),
		totalCase("p = −Inf", -inf, same),
		totalCase("uncoalesced rows", 2, func(gs []gradnorm.Grad) []gradnorm.Grad { gs[1].Rows[1] = 1; return gs }),
		totalCase("two tensors share memory", 2, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[1].Values = gs[0].Values[2:6]
			return gs
		}),
		clipCase("max_norm NaN", nan, 2, false, same),
		clipCase("max_norm −1", -1, 2, false, same),
		clipCase("max_norm +Inf", inf, 2, false, same),
		clipCase("p = 0", 1, 0, false, same),
		clipCase("p = NaN", 1, nan, false, same),
		clipCase("p = −1", 1, -1, false, same),
		clipCase("uncoalesced rows (repeated)", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad { gs[1].Rows[1] = 1; return gs }),
		clipCase("rows descending", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad { gs[1].Rows[0] = 5; return gs }),
		clipCase("sparse row = V", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad { gs[1].Rows[1] = 6; return gs }),
		clipCase("negative sparse row", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad { gs[1].Rows[0] = -1; return gs }),
		clipCase("dense values one short", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[0].Values = gs[0].Values[:5]
			return gs
		}),
		clipCase("negative V", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad { gs[0].V = -3; return gs }),
		clipCase("dense gradient with Rows", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[0].Rows = []int32{0, 1, 2}
			return gs
		}),
		clipCase("V·D overflows int", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[0].V, gs[0].D = 1<<31, 1<<33
			return gs
		}),
		clipCase("two tensors share memory", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[1].Values = gs[0].Values[2:6]
			return gs
		}),
		clipCase("a tensor's values hold another's rows", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[0].Values[0], gs[0].Values[1] = math.Float32frombits(1), math.Float32frombits(4)
			gs[1].Rows = i32view(gs[0].Values, 2)
			return gs
		}),
		clipCase("a tensor's values hold its own rows", 1, 2, false, func(gs []gradnorm.Grad) []gradnorm.Grad {
			v := []float32{math.Float32frombits(1), math.Float32frombits(4), 9, 10}
			gs[1].Values, gs[1].Rows = v, i32view(v, 2)
			return gs
		}),
		clipCase("NaN element with error_if_nonfinite", 1, 2, true, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[1].Values[3] = float32(nan)
			return gs
		}),
		clipCase("+Inf element with error_if_nonfinite", 1, inf, true, func(gs []gradnorm.Grad) []gradnorm.Grad {
			gs[0].Values[0] = float32(-inf)
			return gs
		}),
		rowNormsCase("dst one short", func(dst *[]float64, _ *gradnorm.Grad) { *dst = (*dst)[:1] }),
		rowNormsCase("dst nil with rows", func(dst *[]float64, _ *gradnorm.Grad) { *dst = nil }),
		rowNormsCase("uncoalesced rows", func(_ *[]float64, g *gradnorm.Grad) { g.Rows[1] = 1 }),
		rowNormsCase("sparse row = V", func(_ *[]float64, g *gradnorm.Grad) { g.Rows[1] = 6 }),
		rowNormsCase("dst overlaps values", func(dst *[]float64, g *gradnorm.Grad) { *dst = f64view(g.Values, 2) }),
		rowNormsCase("dst overlaps rows", func(dst *[]float64, g *gradnorm.Grad) {
			buf := make([]float64, 2)
			r := i32view(buf, 2)
			r[0], r[1] = 1, 4
			g.Rows, *dst = r, buf
		}),
	}
	return cs
}

// renormCases are gradnorm.EmbeddingRenorm's hostile inputs (a package
// function, not part of gradnorm.Impl).
var renormCases = []struct {
	name string
	edit func(table *[]float32, V, D *int, ids *[]int32, maxNorm, p *float64)
}{
	{"max_norm NaN", func(_ *[]float32, _, _ *int, _ *[]int32, m, _ *float64) { *m = math.NaN() }},
	{"max_norm −1", func(_ *[]float32, _, _ *int, _ *[]int32, m, _ *float64) { *m = -1 }},
	{"max_norm +Inf", func(_ *[]float32, _, _ *int, _ *[]int32, m, _ *float64) { *m = math.Inf(1) }},
	{"p = 0", func(_ *[]float32, _, _ *int, _ *[]int32, _, p *float64) { *p = 0 }},
	{"p = 0.5", func(_ *[]float32, _, _ *int, _ *[]int32, _, p *float64) { *p = 0.5 }},
	{"p = NaN", func(_ *[]float32, _, _ *int, _ *[]int32, _, p *float64) { *p = math.NaN() }},
	{"p = −1", func(_ *[]float32, _, _ *int, _ *[]int32, _, p *float64) { *p = -1 }},
	{"p = −Inf", func(_ *[]float32, _, _ *int, _ *[]int32, _, p *float64) { *p = math.Inf(-1) }},
	{"id = V", func(_ *[]float32, _, _ *int, ids *[]int32, _, _ *float64) { (*ids)[1] = 5 }},
	{"negative id", func(_ *[]float32, _, _ *int, ids *[]int32, _, _ *float64) { (*ids)[0] = -1 }},
	{"table one short", func(t *[]float32, _, _ *int, _ *[]int32, _, _ *float64) { *t = (*t)[:14] }},
	{"negative D", func(_ *[]float32, _, D *int, _ *[]int32, _, _ *float64) { *D = -3 }},
	{"V·D overflows int", func(_ *[]float32, V, D *int, _ *[]int32, _, _ *float64) { *V, *D = 1<<31, 1<<33 }},
	{"ids lie inside the table", func(t *[]float32, _, _ *int, ids *[]int32, _, _ *float64) {
		v := i32view(*t, 3)
		copy(v, []int32{0, 3, 4})
		*ids = v
	}},
}

// formRows adds the newer forms' rows to the reliability table.
func formRows(b *bytes.Buffer, row func(string, int, []string, []string)) {
	fmt.Fprintf(b, "| **newer forms:** %d bag, %d 16-bit, %d step, %d fused, %d norm implementations | | |\n",
		len(registry.Bag()), len(registry.Half()), len(registry.Steppers()), len(registry.FusedSteps()), len(registry.Norms()))
	runForm(row, registry.Bag(), embgrad.BagKernel.Name, bagCases())
	runForm(row, registry.Half(), registry.HalfKernel.Name, halfCases())
	runForm(row, registry.Steppers(), optim.Stepper.Name, stepCases())
	runForm(row, registry.FusedSteps(), optim.Fused.Name, fusedCases())
	runForm(row, registry.Norms(), gradnorm.Impl.Name, normCases())
	for _, c := range renormCases {
		table := make([]float32, 15)
		for i := range table {
			table[i] = float32(i + 1)
		}
		V, D, ids, maxNorm, p := 5, 3, []int32{0, 3, 4}, 1.0, 2.0
		c.edit(&table, &V, &D, &ids, &maxNorm, &p)
		msg, fault := verdictOf(snap(table), func() error { return gradnorm.EmbeddingRenorm(table, V, D, ids, maxNorm, p) })
		var faults []string
		if fault != "" {
			faults = []string{"EmbeddingRenorm: " + fault}
		}
		row("renorm: "+c.name, 1, []string{msg}, faults)
	}
	entryRows(row)
}

// The snapshot verdict must catch a call that changes a state buffer or
// Step, panics, or accepts.
func TestVerdictOfCatchesFaults(t *testing.T) {
	st := &optim.State{Momentum1: []float32{1}, Step: 3}
	if _, f := verdictOf(snap(st), func() error { st.Step++; return embgrad.ErrInvalidInput }); f == "" {
		t.Error("Step changed: no fault")
	}
	if _, f := verdictOf(snap(st), func() error { st.Momentum1[0] = 2; return embgrad.ErrInvalidInput }); f == "" {
		t.Error("Momentum1 changed: no fault")
	}
	d := []float64{1}
	if _, f := verdictOf(snap(d), func() error { d[0] = math.Copysign(0, -1) * 0; return embgrad.ErrInvalidInput }); f == "" {
		t.Error("float64 dst changed: no fault")
	}
	if _, f := verdictOf(snap(d), func() error { panic("x") }); f == "" {
		t.Error("panic: no fault")
	}
	if _, f := verdictOf(snap(d), func() error { return nil }); f != "no error" {
		t.Errorf("accepting: fault %q", f)
	}
}

// forwardCases are embgrad.BagForward's hostile inputs (out and maxIndices
// are its outputs): V=5, D=3, three bags over six ids.
var forwardCases = []struct {
	name string
	edit func(out *[]float32, mi *[]int32, E *[]float32, a *embgrad.BagArgs)
}{
	{"out one row short", func(out *[]float32, _ *[]int32, _ *[]float32, _ *embgrad.BagArgs) { *out = (*out)[:6] }},
	{"E one element short", func(_ *[]float32, _ *[]int32, E *[]float32, _ *embgrad.BagArgs) { *E = (*E)[:14] }},
	{"id = V", func(_ *[]float32, _ *[]int32, _ *[]float32, a *embgrad.BagArgs) { a.IDs[5] = 5 }},
	{"decreasing offsets", func(_ *[]float32, _ *[]int32, _ *[]float32, a *embgrad.BagArgs) { a.Offsets = []int32{0, 4, 2} }},
	{"include_last_offset, last < len(ids)", func(_ *[]float32, _ *[]int32, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.IncludeLastOffset, a.Offsets = true, []int32{0, 2, 4, 5}
	}},
	{"max: nil maxIndices", func(_ *[]float32, mi *[]int32, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.Mode, *mi = embgrad.BagMax, nil
	}},
	{"sum: maxIndices given", func(_ *[]float32, mi *[]int32, _ *[]float32, _ *embgrad.BagArgs) { *mi = make([]int32, 9) }},
	{"weights in mean mode", func(_ *[]float32, _ *[]int32, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.Mode, a.Weights = embgrad.BagMean, []float32{1, 2, 3, 4, 5, 6}
	}},
	{"out overlaps E", func(out *[]float32, _ *[]int32, E *[]float32, _ *embgrad.BagArgs) { *out = (*E)[:9] }},
	{"maxIndices overlap ids", func(_ *[]float32, mi *[]int32, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.Mode = embgrad.BagMax
		a.IDs = append(a.IDs, make([]int32, 9)...)[:6]
		*mi = a.IDs[:9]
	}},
	{"maxIndices overlap out", func(out *[]float32, mi *[]int32, _ *[]float32, a *embgrad.BagArgs) {
		a.Opt.Mode = embgrad.BagMax
		*mi = i32view(*out, 9)
	}},
	{"padding index = V", func(_ *[]float32, _ *[]int32, _ *[]float32, a *embgrad.BagArgs) { a.Opt.Options = a.Opt.WithPadding(5) }},
}

// densifyCases are embgrad.Densify's hostile inputs: V=4, D=3, rows {0, 2}.
var densifyCases = []struct {
	name string
	edit func(dst *[]float32, V, D *int, rows *[]int32, values *[]float32, U *int)
}{
	{"rows descending", func(_ *[]float32, _, _ *int, rows *[]int32, _ *[]float32, _ *int) { *rows = []int32{2, 0} }},
	{"row = V", func(_ *[]float32, _, _ *int, rows *[]int32, _ *[]float32, _ *int) { (*rows)[1] = 4 }},
	{"U > len(rows)", func(_ *[]float32, _, _ *int, _ *[]int32, values *[]float32, U *int) {
		*U, *values = 3, append(*values, 1, 2, 3)
	}},
	{"negative U", func(_ *[]float32, _, _ *int, _ *[]int32, _ *[]float32, U *int) { *U = -1 }},
	{"values shorter than U·D", func(_ *[]float32, _, _ *int, _ *[]int32, values *[]float32, _ *int) { *values = (*values)[:5] }},
	{"dst one element short", func(dst *[]float32, _, _ *int, _ *[]int32, _ *[]float32, _ *int) { *dst = (*dst)[:11] }},
	{"dst overlaps values", func(dst *[]float32, _, _ *int, _ *[]int32, values *[]float32, _ *int) { *values = (*dst)[6:12] }},
	{"V·D overflows int", func(_ *[]float32, V, D *int, _ *[]int32, _ *[]float32, _ *int) { *V, *D = 1<<31, 1<<33 }},
}

// entryRows adds the rows of BagForward and Densify, entry points that are
// package functions rather than registered kernels.
func entryRows(row func(string, int, []string, []string)) {
	one := func(name, fn, msg, fault string) {
		var faults []string
		if fault != "" {
			faults = []string{fn + ": " + fault}
		}
		row(name, 1, []string{msg}, faults)
	}
	for _, c := range forwardCases {
		dst, _, a := bagBase()
		out := make([]float32, 9)
		for i := range out {
			out[i] = 7
		}
		var mi []int32
		E := dst // a valid table
		c.edit(&out, &mi, &E, &a)
		if a.Opt.Mode == embgrad.BagMax && mi == nil && c.name != "max: nil maxIndices" {
			mi = make([]int32, 9)
		}
		msg, fault := verdictOf(snap(out, mi), func() error {
			return embgrad.BagForward(out, mi, E, a.V, a.D, a.IDs, a.Offsets, a.Weights, a.Opt)
		})
		one("bag forward: "+c.name, "BagForward", msg, fault)
	}
	for _, c := range densifyCases {
		dst, _, _ := dense(4, 3, 0)
		V, D, rows, values, U := 4, 3, []int32{0, 2}, []float32{1, 2, 3, 4, 5, 6}, 2
		c.edit(&dst, &V, &D, &rows, &values, &U)
		msg, fault := verdictOf(snap(dst), func() error { return embgrad.Densify(dst, V, D, rows, values, U) })
		one("densify: "+c.name, "Densify", msg, fault)
	}
}

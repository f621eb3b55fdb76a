package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/registry"
)

// badCall is one hostile call: it builds fresh buffers (dst filled with
// non-zero values so that any write shows) and returns the call to make.
type badCall struct {
	name  string
	build func() (dst []float32, call func(k embgrad.Kernel) error)
}

// dense returns a V×D dst with distinct values, N ids in range and their
// gradOut, for the cases that break one thing.
func dense(V, D, N int) ([]float32, []int32, []float32) {
	dst := make([]float32, V*D)
	for i := range dst {
		dst[i] = float32(i+1) / 8
	}
	ids := make([]int32, N)
	for i := range ids {
		ids[i] = int32(i % V)
	}
	g := make([]float32, N*D)
	for i := range g {
		g[i] = float32(i%7) - 3
	}
	return dst, ids, g
}

func backwardCase(name string, V, D, N int, edit func(dst *[]float32, V, D *int, ids *[]int32, g *[]float32, opt *embgrad.Options)) badCall {
	return badCall{name, func() ([]float32, func(embgrad.Kernel) error) {
		dst, ids, g := dense(V, D, N)
		v, d, opt := V, D, embgrad.Options{}
		edit(&dst, &v, &d, &ids, &g, &opt)
		return dst, func(k embgrad.Kernel) error { return k.Backward(dst, v, d, ids, g, opt) }
	}}
}

var badCalls = []badCall{
	backwardCase("negative id", 5, 3, 4, func(_ *[]float32, _, _ *int, ids *[]int32, _ *[]float32, _ *embgrad.Options) { (*ids)[2] = -1 }),
	backwardCase("id = V", 5, 3, 4, func(_ *[]float32, _, _ *int, ids *[]int32, _ *[]float32, _ *embgrad.Options) { (*ids)[3] = 5 }),
	backwardCase("dst one element short", 5, 3, 4, func(dst *[]float32, _, _ *int, _ *[]int32, _ *[]float32, _ *embgrad.Options) { *dst = (*dst)[:14] }),
	backwardCase("gradOut one row too long", 5, 3, 4, func(_ *[]float32, _, _ *int, _ *[]int32, g *[]float32, _ *embgrad.Options) {
		*g = append(*g, 1, 2, 3)
	}),
	backwardCase("negative V", 5, 3, 4, func(_ *[]float32, V, _ *int, _ *[]int32, _ *[]float32, _ *embgrad.Options) { *V = -5 }),
	backwardCase("negative D", 5, 3, 4, func(_ *[]float32, _, D *int, _ *[]int32, _ *[]float32, _ *embgrad.Options) { *D = -3 }),
	backwardCase("V·D overflows int", 5, 3, 4, func(_ *[]float32, V, D *int, _ *[]int32, _ *[]float32, _ *embgrad.Options) {
		*V, *D = 1<<31, 1<<33
	}),
	backwardCase("V above MaxV with D = 0", 5, 3, 4, func(dst *[]float32, V, D *int, _ *[]int32, g *[]float32, _ *embgrad.Options) {
		*dst, *g, *V, *D = nil, nil, 1<<47, 0
	}),
	backwardCase("padding index = V", 5, 3, 4, func(_ *[]float32, _, _ *int, _ *[]int32, _ *[]float32, opt *embgrad.Options) {
		*opt = opt.WithPadding(5)
	}),
	backwardCase("negative padding index", 5, 3, 4, func(_ *[]float32, _, _ *int, _ *[]int32, _ *[]float32, opt *embgrad.Options) {
		*opt = opt.WithPadding(-1)
	}),
	backwardCase("dst overlaps gradOut", 5, 3, 4, func(dst *[]float32, _, _ *int, _ *[]int32, g *[]float32, _ *embgrad.Options) {
		*g = (*dst)[3:15]
	}),
	backwardCase("ids lie inside dst", 5, 3, 4, func(dst *[]float32, _, _ *int, ids *[]int32, _ *[]float32, _ *embgrad.Options) {
		*ids = unsafe.Slice((*int32)(unsafe.Pointer(&(*dst)[10])), 4)
	}),
	{"Scratch with dst overlapping gradOut", func() ([]float32, func(embgrad.Kernel) error) {
		dst, ids, _ := dense(5, 3, 4)
		return dst, func(k embgrad.Kernel) error { return embgrad.Scratch(k, dst, 5, 3, ids, dst[:12], embgrad.Options{}) }
	}},
}

// tiedCalls are the hostile inputs that only a tied call has.
var tiedCalls = []struct {
	name string
	edit func(dst []float32, a *embgrad.TiedArgs)
}{
	{"tied: dZ one element short", func(_ []float32, a *embgrad.TiedArgs) { a.DZ = a.DZ[:len(a.DZ)-1] }},
	{"tied: H overlaps dst", func(dst []float32, a *embgrad.TiedArgs) { a.H = dst[:len(a.H)] }},
	{"tied: dZ overlaps dst", func(dst []float32, a *embgrad.TiedArgs) { a.DZ = dst[:len(a.DZ)] }},
	{"tied: negative T", func(_ []float32, a *embgrad.TiedArgs) { a.T = -1 }},
	{"tied: T·D overflows int", func(_ []float32, a *embgrad.TiedArgs) { a.T = math.MaxInt / 2 }},
	{"tied: bad id in the input part", func(_ []float32, a *embgrad.TiedArgs) { a.IDs[0] = 99 }},
}

// sparseCalls are hostile inputs of a sparse call: each edits fresh
// buffers (rows and values prefilled so that any write shows).
var sparseCalls = []struct {
	name string
	edit func(rows *[]int32, values, g *[]float32, ids *[]int32)
}{
	{"sparse: id = V", func(_ *[]int32, _, _ *[]float32, ids *[]int32) { (*ids)[1] = 5 }},
	{"sparse: rows shorter than ids", func(rows *[]int32, _, _ *[]float32, _ *[]int32) { *rows = (*rows)[:3] }},
	{"sparse: values shorter than len(ids)·D", func(_ *[]int32, values, _ *[]float32, _ *[]int32) { *values = (*values)[:11] }},
	{"sparse: values overlap gradOut", func(_ *[]int32, values, g *[]float32, _ *[]int32) { *g = (*values)[:12] }},
	{"sparse: rows overlap ids", func(rows *[]int32, _, _ *[]float32, ids *[]int32) { *ids = (*rows)[:4] }},
}

// verdict runs one hostile call and says what it got: the error text, or
// what went wrong (a panic, no error, an error not wrapping
// ErrInvalidInput, dst or the other outputs changed).
func verdict(dst []float32, call func() error, others ...[]int32) (msg string, fault string) {
	before := append([]float32(nil), dst...)
	var othersBefore [][]int32
	for _, o := range others {
		othersBefore = append(othersBefore, append([]int32(nil), o...))
	}
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
	default:
		for i := range dst {
			if math.Float32bits(dst[i]) != math.Float32bits(before[i]) {
				fault = fmt.Sprintf("dst[%d] changed", i)
				break
			}
		}
		for j, o := range others {
			if fault == "" && !slices.Equal(o, othersBefore[j]) {
				fault = "an int32 output changed"
			}
		}
	}
	if err != nil {
		msg = err.Error()
	}
	return msg, fault
}

// TestReliabilityTable tries every hostile kernel input on every registered
// kernel, fails if any kernel panics, accepts it, or changes dst, and keeps
// results/RELIABILITY.md as the table of what each input gets (-update
// rewrites it).
func TestReliabilityTable(t *testing.T) {
	var b bytes.Buffer
	kernels, tied := registry.Kernels(), registry.Tied()
	fmt.Fprintf(&b, `# Bad input: what each gets

Generated by `+"`go test ./cmd/embgrad -run TestReliabilityTable -update`"+` (cmd/embgrad/reliability_test.go):
every input below is tried on every registered kernel (%d dense, %d tied, %d sparse), each
must return an error wrapping `+"`embgrad.ErrInvalidInput`"+` without panicking and leave
its outputs bit-for-bit unchanged, or the test fails. The answer is the error text (the
same for every kernel unless the row says otherwise).

What the gate gets for hostile result files and flags is in
[cmd/embgrad/testdata/gate/CASES.md](../cmd/embgrad/testdata/gate/CASES.md), made by TestGateGolden.

| input | kernels | answer |
|---|---|---|
`, len(kernels), len(tied), len(registry.Sparse()))
	row := func(name string, n int, msgs []string, faults []string) {
		for _, f := range faults {
			t.Errorf("%s: %s", name, f)
		}
		answer := msgs[0]
		for _, m := range msgs[1:] {
			if m != answer {
				answer += " (messages differ between kernels)"
				break
			}
		}
		status := fmt.Sprintf("%d of %d rejected, outputs unchanged", n-len(faults), n)
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, status, strings.ReplaceAll(answer, "|", `\|`))
	}
	for _, c := range badCalls {
		var msgs, faults []string
		for _, k := range kernels {
			dst, call := c.build()
			msg, fault := verdict(dst, func() error { return call(k) })
			msgs = append(msgs, msg)
			if fault != "" {
				faults = append(faults, k.Name()+": "+fault)
			}
		}
		row(c.name, len(kernels), msgs, faults)
	}
	for _, c := range tiedCalls {
		var msgs, faults []string
		for _, k := range tied {
			const V, D, T, N = 6, 4, 3, 5
			dst, ids, g := dense(V, D, N)
			a := embgrad.TiedArgs{V: V, D: D, IDs: ids, GradOut: g, T: T,
				H: make([]float32, T*D), DZ: make([]float32, T*V)}
			c.edit(dst, &a)
			msg, fault := verdict(dst, func() error { return k.BackwardTied(dst, a) })
			msgs = append(msgs, msg)
			if fault != "" {
				faults = append(faults, k.Name()+": "+fault)
			}
		}
		row(c.name, len(tied), msgs, faults)
	}
	sparse := registry.Sparse()
	for _, c := range sparseCalls {
		var msgs, faults []string
		for _, k := range sparse {
			dst, ids, g := dense(5, 3, 4)
			rows := []int32{7, 7, 7, 7}
			values := dst[:12]
			c.edit(&rows, &values, &g, &ids)
			msg, fault := verdict(values, func() error {
				u, err := k.Sparse(rows, values, 5, 3, ids, g, embgrad.Options{})
				if err != nil && u != 0 {
					return fmt.Errorf("U = %d on error: %w", u, err)
				}
				return err
			}, rows)
			msgs = append(msgs, msg)
			if fault != "" {
				faults = append(faults, k.Name()+": "+fault)
			}
		}
		row(c.name, len(sparse), msgs, faults)
	}
	formRows(&b, row)
	matchGolden(t, "../../results/RELIABILITY.md", b.Bytes())
}

// writesFirst is a kernel that writes before it validates.
type writesFirst struct{}

func (writesFirst) Name() string { return "writes-first" }
func (writesFirst) Backward(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
	if len(dst) > 0 {
		dst[0]++
	}
	return embgrad.Validate(dst, V, D, ids, g, opt)
}

// The table's verdict must catch a kernel that panics, accepts bad input,
// or writes before it rejects.
func TestVerdictCatchesFaults(t *testing.T) {
	dst, call := badCalls[0].build()
	if _, fault := verdict(dst, func() error { return call(writesFirst{}) }); !strings.Contains(fault, "dst[0] changed") {
		t.Errorf("writes-first: fault %q, want dst[0] changed", fault)
	}
	rows := []int32{1, 2}
	if _, fault := verdict(nil, func() error { rows[0] = 9; return embgrad.ErrInvalidInput }, rows); fault != "an int32 output changed" {
		t.Errorf("writes rows: fault %q, want an int32 output changed", fault)
	}
	if _, fault := verdict(nil, func() error { return nil }); fault != "no error" {
		t.Errorf("accepting kernel: fault %q, want no error", fault)
	}
	if _, fault := verdict(nil, func() error { panic("boom") }); !strings.HasPrefix(fault, "panic: boom") {
		t.Errorf("panicking kernel: fault %q, want panic", fault)
	}
	if _, fault := verdict(nil, func() error { return errors.New("plain") }); !strings.Contains(fault, "ErrInvalidInput") {
		t.Errorf("plain error: fault %q, want not wrapping ErrInvalidInput", fault)
	}
}

package extkernel

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
)

// Kernel returns the process's dense kernel, or nil if it has none
// (no CapDense). The value implements embgrad.ScratchKernel with
// CapScratch and embgrad.Parallel with CapParallel, as the kernel in the
// process does, so the suites run the same checks on it.
func (p *Process) Kernel() embgrad.Kernel {
	if p.caps&CapDense == 0 {
		return nil
	}
	b := dense{p: p}
	switch p.caps & (CapScratch | CapParallel) {
	case CapScratch:
		return denseScratch{b}
	case CapParallel:
		return denseParallel{b}
	case CapScratch | CapParallel:
		return denseScratchParallel{b}
	}
	return b
}

// Tied returns the process's tied kernel, or nil (no CapTied). It is also
// an embgrad.Kernel when the process serves the dense form, and an
// embgrad.TiedParallel with CapParallel.
func (p *Process) Tied() embgrad.TiedKernel {
	if p.caps&CapTied == 0 {
		return nil
	}
	t := tied{dense{p: p}}
	switch p.caps & (CapDense | CapParallel) {
	case CapDense:
		return tiedDense{t}
	case CapParallel:
		return tiedParallel{t}
	case CapDense | CapParallel:
		return tiedDenseParallel{t}
	}
	return t
}

// dense is the common part of every view: the process and a worker count.
type dense struct {
	p       *Process
	workers uint32
}

func (k dense) Name() string { return k.p.name }

// Nondeterministic is the kernel's CapNondeterministic.
func (k dense) Nondeterministic() bool { return k.p.caps&CapNondeterministic != 0 }

// Unobservable says what the suites cannot see of a kernel in another
// process (suite.Boundary): it works on its own copies of the buffers.
func (k dense) Unobservable() ([]string, string) {
	return []string{suite.StrayWrite, suite.ChangedInput, suite.Aliasing},
		"the kernel runs in another process, on copies of the buffers"
}

func flags(opt embgrad.Options) (uint32, int32) {
	var f uint32
	var pad int32
	if opt.HasPadding {
		f |= FlagPadding
		pad = opt.PaddingIdx
	}
	if opt.ScaleGradByFreq {
		f |= FlagScale
	}
	return f, pad
}

func (k dense) backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options, extra uint32) error {
	f, pad := flags(opt)
	return k.p.call(TypeDense, &call{V: int64(V), D: int64(D), Flags: f | extra, PaddingIdx: pad, Workers: k.workers,
		Dst: dst, IDs: ids, GradOut: gradOut}, dst)
}

// Backward sends the call to the process (embgrad.Kernel).
func (k dense) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return k.backward(dst, V, D, ids, gradOut, opt, 0)
}

type denseScratch struct{ dense }

// BackwardScratch sends a from-scratch call (embgrad.ScratchKernel).
func (k denseScratch) BackwardScratch(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return k.backward(dst, V, D, ids, gradOut, opt, FlagScratch)
}

type denseParallel struct{ dense }

// WithWorkers asks the process for n workers (embgrad.Parallel).
func (k denseParallel) WithWorkers(n int) embgrad.Kernel {
	k.workers = uint32(max(n, 1))
	return k
}

type denseScratchParallel struct{ dense }

func (k denseScratchParallel) BackwardScratch(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return k.backward(dst, V, D, ids, gradOut, opt, FlagScratch)
}

func (k denseScratchParallel) WithWorkers(n int) embgrad.Kernel {
	k.workers = uint32(max(n, 1))
	return k
}

// tied is the tied view (embgrad.TiedKernel).
type tied struct{ d dense }

func (k tied) Name() string                     { return k.d.Name() }
func (k tied) Nondeterministic() bool           { return k.d.Nondeterministic() }
func (k tied) Unobservable() ([]string, string) { return k.d.Unobservable() }
func (k tied) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	f, pad := flags(a.Opt)
	return k.d.p.call(TypeTied, &call{V: int64(a.V), D: int64(a.D), T: int64(a.T), Flags: f, PaddingIdx: pad,
		Workers: k.d.workers, Dst: dst, IDs: a.IDs, GradOut: a.GradOut, H: a.H, DZ: a.DZ}, dst)
}

type tiedDense struct{ tied }

func (k tiedDense) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return k.d.Backward(dst, V, D, ids, gradOut, opt)
}

type tiedParallel struct{ tied }

func (k tiedParallel) WithTiedWorkers(n int) embgrad.TiedKernel {
	k.d.workers = uint32(max(n, 1))
	return k
}

type tiedDenseParallel struct{ tied }

func (k tiedDenseParallel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return k.d.Backward(dst, V, D, ids, gradOut, opt)
}

func (k tiedDenseParallel) WithTiedWorkers(n int) embgrad.TiedKernel {
	k.d.workers = uint32(max(n, 1))
	return k
}

// Sparse returns the process's sparse kernel, or nil (no CapSparse).
func (p *Process) Sparse() embgrad.SparseKernel {
	if p.caps&CapSparse == 0 {
		return nil
	}
	return sparse{dense{p: p}}
}

// sparse is the sparse view (embgrad.SparseKernel).
type sparse struct{ d dense }

func (k sparse) Name() string                     { return k.d.Name() }
func (k sparse) Nondeterministic() bool           { return k.d.Nondeterministic() }
func (k sparse) Unobservable() ([]string, string) { return k.d.Unobservable() }

// Sparse sends the call; rows and values are what the process left in
// them, copied back.
func (k sparse) Sparse(rows []int32, values []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (int, error) {
	f, pad := flags(opt)
	return k.d.p.callSparse(&call{V: int64(V), D: int64(D), Flags: f, PaddingIdx: pad, Workers: k.d.workers,
		Rows: rows, Values: values, IDs: ids, GradOut: gradOut})
}

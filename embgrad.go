// Package embgrad is the contract for embedding-backward kernels on the CPU.
//
// An embedding lookup gathers rows of a V×D row-major float32 table E by
// token ids: Y[i] = E[ids[i]]. Its backward pass adds the upstream gradient
// rows G[i] (len(ids)×D) into the rows of the table's gradient that the ids
// name. A Kernel implements exactly this loop:
//
//	for i, id := range ids {
//		if opt.HasPadding && id == opt.PaddingIdx {
//			continue // the padding row never receives gradient
//		}
//		s := float32(1)
//		if opt.ScaleGradByFreq {
//			s = 1 / float32(count of id in ids)
//		}
//		for j := 0; j < D; j++ {
//			dst[int(id)*D+j] += float32(s * gradOut[i*D+j]) // product rounded once: never fused into an FMA
//		}
//	}
//
// The rules every kernel follows:
//
//   - It adds into dst (the way a training step's .grad accumulates); rows
//     that no id names stay bit-for-bit as they were. "From scratch" is the
//     caller clearing dst first.
//   - It validates all inputs before its first write (use Validate). On error
//     dst is bit-for-bit unchanged and the error wraps ErrInvalidInput and
//     names the problem. It never panics on user input.
//   - ids and gradOut are read-only.
//   - NaN and ±Inf in gradOut propagate like any other value.
//   - A Kernel value is safe for concurrent use on distinct dst buffers.
//   - Duplicates may be summed in any order, but a kernel is deterministic —
//     bitwise-identical results run to run and for every worker count —
//     unless it implements Nondeterministic and returns true.
//
// The suites in gradcheck and property verify any Kernel against these rules;
// the kernels shipped with embgrad live under impl/.
//
// This package is the contract only: interfaces, options, validation and
// its errors. Each form of the backward has one validating function
// (Validate, ValidateTied) that kernels call; the arithmetic behind them
// (overflow-checked products, the first bad id) stays unexported, since a
// kernel that validated with the parts instead of the whole would miss the
// checks added later (such as the overlap test).
package embgrad

// Options selects PyTorch's padding_idx and scale_grad_by_freq behaviour.
// The zero value means no padding row and no scaling, so token 0 is never
// silently treated as padding.
type Options struct {
	// HasPadding enables PaddingIdx: positions whose id equals PaddingIdx
	// contribute nothing and that row of dst is left unchanged.
	HasPadding bool
	// PaddingIdx is the padding row; it must lie in [0, V) when HasPadding.
	PaddingIdx int32
	// ScaleGradByFreq scales each position's gradient by 1/count, where count
	// is how often its id occurs in ids (padding positions excluded, as they
	// contribute nothing).
	ScaleGradByFreq bool
}

// WithPadding returns o with padding row idx.
func (o Options) WithPadding(idx int32) Options {
	o.HasPadding, o.PaddingIdx = true, idx
	return o
}

// Skips reports whether a position with this id contributes nothing.
func (o Options) Skips(id int32) bool { return o.HasPadding && id == o.PaddingIdx }

// Kernel computes the embedding backward pass; see the package doc for the
// loop it implements and the rules it follows.
type Kernel interface {
	// Name is a short identifier, used in benchmark names (impl=<Name>).
	Name() string
	// Backward adds the gradient of gradOut (len(ids)×D) gathered by ids into
	// dst (V×D). On error dst is unchanged.
	Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt Options) error
}

// Nondeterministic is implemented by kernels whose summation order may change
// from run to run (for example with atomics). Suites skip bitwise
// run-to-run checks for such kernels when Nondeterministic returns true.
type Nondeterministic interface {
	Nondeterministic() bool
}

// Parallel is implemented by kernels with a configurable number of workers.
// WithWorkers returns a kernel using n workers (n ≥ 1); suites use it to check
// that results are bitwise identical for every worker count.
type Parallel interface {
	WithWorkers(n int) Kernel
}

// ScratchKernel is implemented by kernels that compute a gradient from
// scratch — dst overwritten with the backward of gradOut, whatever it held —
// faster than clearing dst and calling Backward (for example by clearing in
// parallel, or by writing touched rows instead of adding into zeros). Invalid
// input leaves dst unchanged, as for Backward.
type ScratchKernel interface {
	Kernel
	BackwardScratch(dst []float32, V, D int, ids []int32, gradOut []float32, opt Options) error
}

// Scratch computes the gradient from scratch with k: dst is overwritten. It
// uses k's BackwardScratch when it has one, else validates (so invalid or
// overlapping input leaves dst unchanged), clears dst and calls Backward.
func Scratch(k Kernel, dst []float32, V, D int, ids []int32, gradOut []float32, opt Options) error {
	if s, ok := k.(ScratchKernel); ok {
		return s.BackwardScratch(dst, V, D, ids, gradOut, opt)
	}
	if err := Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	clear(dst)
	return k.Backward(dst, V, D, ids, gradOut, opt)
}

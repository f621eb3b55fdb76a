package embgrad

import (
	"fmt"
	"math"
)

// BagMode is how an embedding bag pools its rows (PyTorch's mode).
type BagMode int

// The pooling modes. The zero value is BagSum.
const (
	BagSum  BagMode = iota // the bag's rows summed (optionally weighted)
	BagMean                // the sum divided by the bag's count of non-padding ids
	BagMax                 // per column, the maximum over the bag's rows
)

func (m BagMode) String() string {
	switch m {
	case BagSum:
		return "sum"
	case BagMean:
		return "mean"
	case BagMax:
		return "max"
	}
	return fmt.Sprintf("BagMode(%d)", int(m))
}

// BagOptions are PyTorch's embedding_bag options besides the tensors.
// The zero value is sum pooling, offsets giving each bag's start, no padding
// and no scaling.
type BagOptions struct {
	Mode BagMode
	// IncludeLastOffset is PyTorch's include_last_offset (the CSR form):
	// Offsets has B+1 entries and the last must be len(IDs).
	IncludeLastOffset bool
	// Options are padding_idx and scale_grad_by_freq as for Kernel: a
	// padding id is left out of the pooling, of mean's divisor and of the
	// frequency counts, and its row receives nothing. ScaleGradByFreq
	// counts each id over the whole batch (all bags), and is rejected with
	// BagMax, as PyTorch rejects it.
	Options
}

// BagArgs are the inputs of an embedding-bag backward call. The bags are
// given by Offsets: bag b is IDs[Offsets[b]:Offsets[b+1]], the last one
// ending at len(IDs) (or at Offsets[B] with IncludeLastOffset).
type BagArgs struct {
	V, D    int
	IDs     []int32
	Offsets []int32   // B entries (B+1 with IncludeLastOffset); Offsets[0] = 0
	GradOut []float32 // B×D, ∂L/∂(pooled output)
	// Weights are PyTorch's per_sample_weights: nil, or one per id (sum
	// mode only). With them the backward also returns their gradient,
	// which needs the table E.
	Weights []float32
	// E is the V×D embedding table; required with Weights, else ignored
	// and may be nil.
	E []float32
	// MaxIndices is, for BagMax only (nil otherwise), the forward's argmax
	// as PyTorch's max_indices: B×D ids, MaxIndices[b*D+j] the id whose
	// row won column j of bag b, or -1 for a bag with no non-padding id.
	// BagForward computes it.
	MaxIndices []int32
	Opt        BagOptions
}

// Bags returns the number of bags B the offsets describe (before
// validation: a negative count means no offsets at all with
// IncludeLastOffset).
func (a BagArgs) Bags() int {
	if a.Opt.IncludeLastOffset {
		return len(a.Offsets) - 1
	}
	return len(a.Offsets)
}

// Bag returns the bounds [lo, hi) of bag b in IDs; the offsets must be
// valid.
func (a BagArgs) Bag(b int) (lo, hi int) {
	lo, hi = int(a.Offsets[b]), len(a.IDs)
	if b+1 < len(a.Offsets) {
		hi = int(a.Offsets[b+1])
	}
	return lo, hi
}

// BagKernel computes the embedding-bag backward pass: it adds into dst (V×D)
// the gradient of the pooled output and, with weights, overwrites dw
// (len(IDs)) with the gradient with respect to the weights. It implements
// exactly this loop (padding skipped, counts over the whole batch, products
// rounded to float32 before the add, never fused into an FMA):
//
//	for b := 0; b < B; b++ {
//		lo, hi := a.Bag(b)
//		g := GradOut[b*D : (b+1)*D]
//		if Mode == BagMax {
//			for j := 0; j < D; j++ {
//				if m := MaxIndices[b*D+j]; m >= 0 {
//					dst[int(m)*D+j] += g[j] // the one winning id per column
//				}
//			}
//			continue
//		}
//		n := count of non-padding ids in IDs[lo:hi]
//		for i := lo; i < hi; i++ {
//			id := IDs[i]
//			if Opt.Skips(id) {
//				if Weights != nil { dw[i] = 0 }
//				continue
//			}
//			s := float32(1)
//			if Opt.ScaleGradByFreq { s = 1 / float32(count of id in IDs, padding excluded) }
//			if Mode == BagMean     { s = float32(s * (1 / float32(n))) }
//			if Weights != nil {
//				s = float32(s * Weights[i])
//				dw[i] = Σ_j float32(g[j] * E[int(id)*D+j]) // ⟨gradOut[bag(i)], E[id]⟩, unscaled
//			}
//			for j := 0; j < D; j++ {
//				dst[int(id)*D+j] += float32(s * g[j])
//			}
//		}
//	}
//
// Semantics are PyTorch's (aten EmbeddingBag.cpp) where it is consistent:
//
//   - Offsets[0] must be 0, offsets non-decreasing and at most len(IDs);
//     without IncludeLastOffset, B = len(Offsets) and no offsets (B = 0)
//     require no ids. With IncludeLastOffset, B = len(Offsets)−1 and the
//     last offset must equal len(IDs): PyTorch is inconsistent when it is
//     smaller (pytorch issue 191965: sum drops the trailing ids, mean
//     counts them in the divisor, max includes them), so that input is
//     rejected here.
//   - An empty or all-padding bag contributes nothing (in max mode its
//     MaxIndices are -1 and must be).
//   - Max mode: BagForward's argmax takes the first occurrence of the
//     maximum (a later equal value does not win), so the gradient of a tie
//     goes to that one id. MaxIndices are validated: each -1 or an id in
//     [0, V) that is not the padding id, and -1 exactly for the bags with
//     no non-padding id.
//   - Weights only in sum mode (PyTorch's rule); ScaleGradByFreq not in max
//     mode. dw[i] is 0 for a padding position, and is not scaled by
//     frequency (PyTorch's _embedding_bag_per_sample_weights_backward).
//
// The Kernel rules hold otherwise: validation (ValidateBag) before any
// write, dst and dw bit-for-bit unchanged on error, inputs read-only, no
// output sharing memory with an input or the other output, NaN and ±Inf
// propagate, safe for concurrent use on distinct outputs, terms summed in
// any order but deterministically (bitwise identical for every worker
// count), each element within reference.BagOracle's bound.
type BagKernel interface {
	// Name is a short identifier, used in benchmark names (impl=<Name>).
	Name() string
	// BagBackward adds the pooled gradient into dst (V×D) and, when
	// a.Weights is not nil, writes the weight gradient into dw (len(a.IDs);
	// else dw must be empty). On error dst and dw are unchanged.
	BagBackward(dst, dw []float32, a BagArgs) error
}

// BagParallel is implemented by bag kernels with a configurable number of
// workers (n ≥ 1); suites check that results are bitwise identical for
// every worker count.
type BagParallel interface {
	WithBagWorkers(n int) BagKernel
}

// BagScratchKernel is implemented by bag kernels that compute dst from
// scratch (overwritten, whatever it held) faster than clearing it and
// calling BagBackward. Invalid input leaves dst and dw unchanged.
type BagScratchKernel interface {
	BagKernel
	BagBackwardScratch(dst, dw []float32, a BagArgs) error
}

// BagScratch computes the bag gradient from scratch with k: dst is
// overwritten. It uses k's BagBackwardScratch when it has one, else
// validates, clears dst and calls BagBackward.
func BagScratch(k BagKernel, dst, dw []float32, a BagArgs) error {
	if s, ok := k.(BagScratchKernel); ok {
		return s.BagBackwardScratch(dst, dw, a)
	}
	if err := ValidateBag(dst, dw, a); err != nil {
		return err
	}
	clear(dst)
	return k.BagBackward(dst, dw, a)
}

// ValidateBag checks a BagBackward call's inputs and returns the first
// problem, or nil: the shape, every slice's length, the ids and padding
// (as Validate), the offsets (naming the position and value of a bad one),
// the mode's rules for Weights, ScaleGradByFreq and MaxIndices, and that
// neither output shares memory with an input or with the other output.
func ValidateBag(dst, dw []float32, a BagArgs) error {
	vd, err := product("V", a.V, "D", a.D)
	if err != nil {
		return err
	}
	if a.V > MaxV {
		return invalid("V = %d is above MaxV = %d (ids are int32)", a.V, MaxV)
	}
	if len(dst) != vd {
		return &LengthError{"dst", len(dst), vd, fmt.Sprintf("V*D = %d*%d", a.V, a.D)}
	}
	if a.Opt.Mode < BagSum || a.Opt.Mode > BagMax {
		return invalid("unknown bag mode %d", int(a.Opt.Mode))
	}
	if a.Opt.HasPadding && (a.Opt.PaddingIdx < 0 || int(a.Opt.PaddingIdx) >= a.V) {
		return invalid("padding index %d is outside [0, %d)", a.Opt.PaddingIdx, a.V)
	}
	if a.Opt.Mode == BagMax && a.Opt.ScaleGradByFreq {
		return invalid("scale_grad_by_freq is not supported in max mode (as in PyTorch)")
	}
	if err := validOffsets(a); err != nil {
		return err
	}
	B := a.Bags()
	bd, err := product("B", B, "D", a.D)
	if err != nil {
		return err
	}
	if len(a.GradOut) != bd {
		return &LengthError{"gradOut", len(a.GradOut), bd, fmt.Sprintf("B*D = %d*%d", B, a.D)}
	}
	if a.Weights != nil {
		if a.Opt.Mode != BagSum {
			return invalid("per-sample weights are only supported in sum mode, not %v (as in PyTorch)", a.Opt.Mode)
		}
		if len(a.Weights) != len(a.IDs) {
			return &LengthError{"weights", len(a.Weights), len(a.IDs), "len(ids)"}
		}
		if len(dw) != len(a.IDs) {
			return &LengthError{"dw", len(dw), len(a.IDs), "len(ids), with weights"}
		}
		if len(a.E) != vd {
			return &LengthError{"E", len(a.E), vd, fmt.Sprintf("V*D = %d*%d, needed for the weight gradient", a.V, a.D)}
		}
	} else if len(dw) != 0 {
		return &LengthError{"dw", len(dw), 0, "no weights"}
	}
	if a.Opt.Mode == BagMax {
		if len(a.MaxIndices) != bd {
			return &LengthError{"maxIndices", len(a.MaxIndices), bd, fmt.Sprintf("B*D = %d*%d in max mode", B, a.D)}
		}
	} else if a.MaxIndices != nil {
		return invalid("maxIndices given in %v mode (only max mode takes them)", a.Opt.Mode)
	}
	if err := bagOverlaps(dst, dw, a); err != nil {
		return err
	}
	if i := firstBadID(a.IDs, a.V); i >= 0 {
		return &IDError{Pos: i, ID: a.IDs[i], V: a.V}
	}
	if a.Opt.Mode == BagMax {
		return validMaxIndices(a)
	}
	return nil
}

// validOffsets checks the offsets against len(IDs).
func validOffsets(a BagArgs) error {
	n := len(a.IDs)
	if n > math.MaxInt32 {
		return invalid("len(ids) = %d does not fit the int32 offsets", n)
	}
	if a.Opt.IncludeLastOffset && len(a.Offsets) == 0 {
		return invalid("include_last_offset needs at least one offset (got none)")
	}
	if len(a.Offsets) == 0 {
		if n > 0 {
			return invalid("no offsets (no bags) but len(ids) = %d", n)
		}
		return nil
	}
	if a.Offsets[0] != 0 {
		return invalid("offsets[0] = %d, want 0", a.Offsets[0])
	}
	for b, o := range a.Offsets {
		if int(o) > n {
			return invalid("offsets[%d] = %d is above len(ids) = %d", b, o, n)
		}
		if b > 0 && o < a.Offsets[b-1] {
			return invalid("offsets[%d] = %d is below offsets[%d] = %d (offsets must be non-decreasing)", b, o, b-1, a.Offsets[b-1])
		}
	}
	if last := len(a.Offsets) - 1; a.Opt.IncludeLastOffset && int(a.Offsets[last]) != n {
		return invalid("include_last_offset: offsets[%d] = %d, want len(ids) = %d (ids past the last offset would belong to no bag; see pytorch issue 191965)", last, a.Offsets[last], n)
	}
	return nil
}

// validMaxIndices checks MaxIndices: each -1 or a non-padding id in [0, V),
// and -1 exactly for the bags with no non-padding id. The offsets and ids
// are valid.
func validMaxIndices(a BagArgs) error {
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		empty := true
		for _, id := range a.IDs[lo:hi] {
			if !a.Opt.Skips(id) {
				empty = false
				break
			}
		}
		for j, m := range a.MaxIndices[b*a.D : (b+1)*a.D] {
			k := b*a.D + j
			switch {
			case empty && m != -1:
				return invalid("maxIndices[%d] = %d (bag %d col %d): bag %d has no non-padding id, want -1", k, m, b, j, b)
			case !empty && (m < 0 || int(m) >= a.V):
				return invalid("maxIndices[%d] = %d (bag %d col %d) is outside [0, %d)", k, m, b, j, a.V)
			case !empty && a.Opt.Skips(m):
				return invalid("maxIndices[%d] = %d (bag %d col %d) is the padding id", k, m, b, j)
			}
		}
	}
	return nil
}

// bagOverlaps rejects an output sharing memory with an input or the other
// output.
func bagOverlaps(dst, dw []float32, a BagArgs) error {
	for _, o := range []struct {
		name string
		hit  bool
	}{
		{"dst overlaps dw", overlap(dst, dw)},
		{"dst overlaps ids", overlap(dst, a.IDs)},
		{"dst overlaps offsets", overlap(dst, a.Offsets)},
		{"dst overlaps gradOut", overlap(dst, a.GradOut)},
		{"dst overlaps weights", overlap(dst, a.Weights)},
		{"dst overlaps E", overlap(dst, a.E)},
		{"dst overlaps maxIndices", overlap(dst, a.MaxIndices)},
		{"dw overlaps ids", overlap(dw, a.IDs)},
		{"dw overlaps offsets", overlap(dw, a.Offsets)},
		{"dw overlaps gradOut", overlap(dw, a.GradOut)},
		{"dw overlaps weights", overlap(dw, a.Weights)},
		{"dw overlaps E", overlap(dw, a.E)},
		{"dw overlaps maxIndices", overlap(dw, a.MaxIndices)},
	} {
		if o.hit {
			return invalid("%s (outputs must not share memory with an input or each other)", o.name)
		}
	}
	return nil
}

// BagForward is the float32 pooled forward, out (B×D) overwritten:
// sum (weighted when weights is not nil) in id order, mean as that sum
// times float32(1/n) for the bag's n non-padding ids, max as the per-column
// maximum with maxIndices (B×D, max mode only, else nil) set to the id of
// its first occurrence (a strictly greater value replaces it, so ties keep
// the first; NaN never replaces a value), -1 and 0 for a bag with no
// non-padding id. It validates the bags as ValidateBag does (gradOut's
// length taken as out's) and E's length, leaving out and maxIndices
// unchanged on error.
func BagForward(out []float32, maxIndices []int32, E []float32, V, D int, ids, offsets []int32, weights []float32, opt BagOptions) error {
	a := BagArgs{V: V, D: D, IDs: ids, Offsets: offsets, Weights: weights, E: E, Opt: opt}
	if err := validateForward(out, maxIndices, a); err != nil {
		return err
	}
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		o := out[b*D : (b+1)*D]
		clear(o)
		n := 0
		for i := lo; i < hi; i++ {
			id := ids[i]
			if opt.Skips(id) {
				continue
			}
			row := E[int(id)*D : int(id+1)*D]
			switch {
			case opt.Mode == BagMax:
				m := maxIndices[b*D : (b+1)*D]
				for j, x := range row {
					if n == 0 || x > o[j] {
						o[j], m[j] = x, id
					}
				}
			case weights != nil:
				for j, x := range row {
					o[j] += float32(weights[i] * x)
				}
			default:
				for j, x := range row {
					o[j] += x
				}
			}
			n++
		}
		switch {
		case opt.Mode == BagMean && n > 0:
			s := 1 / float32(n)
			for j := range o {
				o[j] = float32(o[j] * s)
			}
		case opt.Mode == BagMax && n == 0:
			for j := range o {
				maxIndices[b*D+j] = -1
			}
		}
	}
	return nil
}

// validateForward checks BagForward's inputs; see BagForward.
func validateForward(out []float32, maxIndices []int32, a BagArgs) error {
	vd, err := product("V", a.V, "D", a.D)
	if err != nil {
		return err
	}
	if a.V > MaxV {
		return invalid("V = %d is above MaxV = %d (ids are int32)", a.V, MaxV)
	}
	if len(a.E) != vd {
		return &LengthError{"E", len(a.E), vd, fmt.Sprintf("V*D = %d*%d", a.V, a.D)}
	}
	if a.Opt.Mode < BagSum || a.Opt.Mode > BagMax {
		return invalid("unknown bag mode %d", int(a.Opt.Mode))
	}
	if a.Opt.HasPadding && (a.Opt.PaddingIdx < 0 || int(a.Opt.PaddingIdx) >= a.V) {
		return invalid("padding index %d is outside [0, %d)", a.Opt.PaddingIdx, a.V)
	}
	if err := validOffsets(a); err != nil {
		return err
	}
	B := a.Bags()
	bd, err := product("B", B, "D", a.D)
	if err != nil {
		return err
	}
	if len(out) != bd {
		return &LengthError{"out", len(out), bd, fmt.Sprintf("B*D = %d*%d", B, a.D)}
	}
	if a.Weights != nil {
		if a.Opt.Mode != BagSum {
			return invalid("per-sample weights are only supported in sum mode, not %v (as in PyTorch)", a.Opt.Mode)
		}
		if len(a.Weights) != len(a.IDs) {
			return &LengthError{"weights", len(a.Weights), len(a.IDs), "len(ids)"}
		}
	}
	if a.Opt.Mode == BagMax {
		if len(maxIndices) != bd {
			return &LengthError{"maxIndices", len(maxIndices), bd, fmt.Sprintf("B*D = %d*%d in max mode", B, a.D)}
		}
	} else if maxIndices != nil {
		return invalid("maxIndices given in %v mode (only max mode computes them)", a.Opt.Mode)
	}
	for _, o := range []struct {
		name string
		hit  bool
	}{
		{"out overlaps maxIndices", overlap(out, maxIndices)},
		{"out overlaps E", overlap(out, a.E)},
		{"out overlaps ids", overlap(out, a.IDs)},
		{"out overlaps offsets", overlap(out, a.Offsets)},
		{"out overlaps weights", overlap(out, a.Weights)},
		{"maxIndices overlaps E", overlap(maxIndices, a.E)},
		{"maxIndices overlaps ids", overlap(maxIndices, a.IDs)},
		{"maxIndices overlaps offsets", overlap(maxIndices, a.Offsets)},
	} {
		if o.hit {
			return invalid("%s (outputs must not share memory with an input or each other)", o.name)
		}
	}
	if i := firstBadID(a.IDs, a.V); i >= 0 {
		return &IDError{Pos: i, ID: a.IDs[i], V: a.V}
	}
	return nil
}

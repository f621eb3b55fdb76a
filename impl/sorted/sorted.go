// Package sorted is the segment-reduction kernel, the approach of PyTorch's
// CUDA backward and FBGEMM's CPU backward: a stable radix sort of the
// contributing positions by id, then one reduction per unique row over its
// positions in position order:
//
//	sort positions i (padding skipped) by ids[i], stably
//	for each run of positions i₁ < i₂ < … < i_c sharing id v:
//		s := float32(1) // 1/c with ScaleGradByFreq: c is the run's length
//		for each i in the run: dst[v*D+j] += s * gradOut[i*D+j] for j in [0, D)
//
// Each element is summed in position order, as in the reference loop, so the
// result is deterministic; each destination row is loaded once and stays in
// cache while its run is added, whatever the skew; and the frequency count
// comes free as the run's length.
//
// The sort costs O(len(ids)), not O(V): it is an LSD radix sort on the bits
// of V−1 (at most three passes of ≤ 11 bits, passes whose digit is the same
// for every key skipped), with tiny batches sorted by comparison. Its buffers
// come from a sync.Pool, so a Kernel value is safe for concurrent use and a
// steady stream of calls allocates nothing.
//
// There is no fused from-scratch path (embgrad.ScratchKernel): a single walk
// in row order that cleared the gaps between touched rows and summed each
// touched row in cache was no faster on GPT-2 shapes than embgrad.Scratch's
// clear, whose non-temporal stores write a large table without reading it,
// followed by Backward.
package sorted

import (
	"math"
	"math/bits"
	"slices"
	"sync"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/vec"
	"github.com/embgrad/embgrad/impl/scatter"
)

// Kernel is the sorted segment-reduction kernel. The zero value is ready to
// use.
type Kernel struct{}

var _ embgrad.Kernel = Kernel{}

// Name returns "sorted".
func (Kernel) Name() string { return "sorted" }

// Backward implements embgrad.Kernel.
func (Kernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if uint64(len(ids)) > maxPositions {
		return scatter.Kernel{}.Backward(dst, V, D, ids, gradOut, opt)
	}
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil // nothing to add; and V, unbounded when D = 0, must size no table
	}
	w := sortPositions(V, ids, opt)
	defer pool.Put(w)
	w.segments(func(id int32, pos []uint64) {
		reduce(dst[int(id)*D:int(id)*D+D], D, pos, gradOut, opt.ScaleGradByFreq)
	})
	return nil
}

// reduce adds the gradient rows of the positions in pos (sorted keys, in
// position order) into row.
func reduce(row []float32, D int, pos []uint64, gradOut []float32, scale bool) {
	if scale {
		s := 1 / float32(len(pos)) // the rounding of rowcount.Counts.Scale
		for _, k := range pos {
			i := int(uint32(k))
			vec.AddScaled(row, gradOut[i*D:i*D+D], s)
		}
		return
	}
	for _, k := range pos {
		i := int(uint32(k))
		vec.Add(row, gradOut[i*D:i*D+D])
	}
}

// maxPositions is the longest batch whose positions fit the low half of a
// sort key; longer ones (tens of gigabytes) go to the scatter kernel.
const maxPositions = math.MaxUint32

// smallSort is the batch size below which a comparison sort beats the
// radix passes and their histogram clears.
const smallSort = 128

// maxDigit is the widest radix digit: 2¹¹ counters (8 KiB) stay in L1.
const maxDigit = 11

// workspace holds one call's sort: keys are id<<32 | position, so that
// ordering keys orders by id and, within an id, by position.
type workspace struct {
	keys, tmp []uint64
	hist      [3][1 << maxDigit]uint32
}

var pool = sync.Pool{New: func() any { return new(workspace) }}

// sortPositions returns a workspace whose keys are the contributing
// positions of ids sorted by (id, position). Put it back in pool when done.
func sortPositions(V int, ids []int32, opt embgrad.Options) *workspace {
	w := pool.Get().(*workspace)
	if cap(w.keys) < len(ids) {
		w.keys = make([]uint64, len(ids))
		w.tmp = make([]uint64, len(ids))
	}
	keys := w.keys[:0]
	for i, id := range ids {
		if !opt.Skips(id) {
			keys = append(keys, uint64(id)<<32|uint64(i))
		}
	}
	w.keys = keys
	if len(keys) < smallSort {
		slices.Sort(keys) // keys are distinct, so any sort is stable
		return w
	}
	// Valid ids are int32, so at most 31 bits need sorting whatever V is.
	w.radix(bits.Len(uint(min(V, math.MaxInt32+1) - 1)))
	return w
}

// radix sorts w.keys by their id bits (the low idBits bits of the high word)
// with stable LSD counting passes, leaving the result in w.keys.
func (w *workspace) radix(idBits int) {
	passes := (idBits + maxDigit - 1) / maxDigit
	if passes == 0 {
		return // V == 1: every id is 0
	}
	width := (idBits + passes - 1) / passes
	mask := uint64(1)<<width - 1
	for p := range passes {
		clear(w.hist[p][:1<<width])
	}
	for _, k := range w.keys {
		id := k >> 32
		for p := range passes {
			w.hist[p][id>>(p*width)&mask]++
		}
	}
	src, dst := w.keys, w.tmp[:len(w.keys)]
	for p := range passes {
		h := &w.hist[p]
		shift := 32 + p*width
		if h[src[0]>>shift&mask] == uint32(len(src)) {
			continue // one digit value: the pass would not move anything
		}
		var sum uint32
		for d, c := range h[:1<<width] {
			h[d] = sum
			sum += c
		}
		for _, k := range src {
			d := k >> shift & mask
			dst[h[d]] = k
			h[d]++
		}
		src, dst = dst, src
	}
	// Keep the sorted keys in w.keys and the spare buffer in w.tmp.
	w.keys, w.tmp = src, dst[:cap(dst)]
}

// segments calls f for each run of sorted keys sharing an id, in id order.
func (w *workspace) segments(f func(id int32, pos []uint64)) {
	keys := w.keys
	for start := 0; start < len(keys); {
		id := keys[start] >> 32
		end := start + 1
		for end < len(keys) && keys[end]>>32 == id {
			end++
		}
		f(int32(id), keys[start:end])
		start = end
	}
}

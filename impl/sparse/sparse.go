// Package sparse is a serial embgrad.SparseKernel: it sorts (id, position)
// pairs and sums each id's run of gradOut rows in position order, writing
// the coalesced gradient row by row. The run order makes it deterministic;
// the pooled pair buffer makes it allocation-free once warm.
package sparse

import (
	"slices"
	"sync"

	"github.com/embgrad/embgrad"
)

// Kernel is the serial sort-based sparse kernel.
type Kernel struct{}

// Name implements embgrad.SparseKernel.
func (Kernel) Name() string { return "sparse-sorted" }

var pairs = sync.Pool{New: func() any { return new([]uint64) }}

// Sparse implements embgrad.SparseKernel.
func (Kernel) Sparse(rows []int32, values []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (int, error) {
	if err := embgrad.ValidateSparse(rows, values, V, D, ids, gradOut, opt); err != nil {
		return 0, err
	}
	p := pairs.Get().(*[]uint64)
	defer pairs.Put(p)
	keys := (*p)[:0]
	for i, id := range ids {
		if !opt.Skips(id) {
			keys = append(keys, uint64(id)<<32|uint64(i)) // ids are ≥ 0 after validation
		}
	}
	slices.Sort(keys)
	*p = keys
	U := 0
	for lo := 0; lo < len(keys); {
		id := int32(keys[lo] >> 32)
		hi := lo + 1
		for hi < len(keys) && int32(keys[hi]>>32) == id {
			hi++
		}
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(hi-lo)
		}
		rows[U] = id
		out := values[U*D : (U+1)*D]
		clear(out)
		for _, key := range keys[lo:hi] {
			i := int(uint32(key))
			g := gradOut[i*D : (i+1)*D]
			for j := range out {
				out[j] += float32(s * g[j]) // product rounded once: never fused into an FMA
			}
		}
		U++
		lo = hi
	}
	return U, nil
}

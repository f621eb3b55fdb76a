// Package rowcount counts how often each row is named in a batch, for
// scale_grad_by_freq, without allocating or clearing a V-sized table per
// call: count tables are pooled and only the entries a batch touched are
// reset when the table is released, so a call costs O(len(ids)), not O(V).
//
// A table has min(V, MaxRows) entries: ids are int32, so no valid id reaches
// past MaxRows whatever V is. Callers with D = 0 must not count at all: dst
// is then empty for any V, so V is not bounded by the memory the caller
// holds.
//
// It sits under impl/internal because only kernels use it: Go's internal
// rule then keeps the suites, the benchmarks and the CLI, which must judge
// kernels without depending on their parts, from importing it.
package rowcount

import (
	"math"
	"sync"

	"github.com/embgrad/embgrad"
)

// Counts holds per-row counts of contributing positions (padding excluded).
type Counts struct {
	n   []int32
	ids []int32 // the batch, to reset exactly the touched entries
}

var pool sync.Pool // of *Counts whose n is all zero

// MaxRows is the most rows a table indexed by a valid int32 id needs.
const MaxRows = math.MaxInt32 + 1

// Acquire counts the contributing occurrences of each id. The ids must be
// valid for V. Call Release when done.
func Acquire(V int, ids []int32, opt embgrad.Options) *Counts {
	c, _ := pool.Get().(*Counts)
	if c == nil {
		c = new(Counts)
	}
	if n := min(V, MaxRows); len(c.n) < n {
		c.n = make([]int32, n)
	}
	c.ids = ids
	for _, id := range ids {
		if !opt.Skips(id) {
			c.n[id]++
		}
	}
	return c
}

// Of returns the count of row id.
func (c *Counts) Of(id int32) int32 { return c.n[id] }

// Scale returns the factor 1/count as float32, the same rounding for every
// kernel that uses this package.
func (c *Counts) Scale(id int32) float32 { return 1 / float32(c.n[id]) }

// Release resets the touched entries and returns the table to the pool.
func (c *Counts) Release() {
	for _, id := range c.ids {
		c.n[id] = 0
	}
	c.ids = nil
	pool.Put(c)
}

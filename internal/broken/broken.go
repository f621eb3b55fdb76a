// Package broken holds kernels for testing the suites themselves, in the
// manner of x/net/nettest's conntest_test: each kernel in Faulty has one real
// bug of the kind embedding kernels ship with, and the suites must catch every
// one; each kernel in Reordered is correct but sums in another order, and the
// suites must not flag any. FaultyTied and ReorderedTied are the same for
// embgrad.TiedKernel. They implement only the public embgrad interfaces, as
// an outside kernel would.
package broken

import (
	"slices"
	"sync/atomic"

	"github.com/embgrad/embgrad"
)

// Faulty returns kernels that each break the contract in one way; Name says how.
func Faulty() []embgrad.Kernel {
	return []embgrad.Kernel{
		kernel{"drops-duplicates", dropsDuplicates},
		kernel{"ignores-padding", func(c call) error { c.opt.HasPadding = false; return forward(c) }},
		kernel{"skips-last-token", skipsLastToken},
		kernel{"writes-before-validating", writesBeforeValidating},
		kernel{"mutates-gradout", mutatesGradOut},
		kernel{"scales-by-running-count", scalesByRunningCount},
		kernel{"skips-simd-tail", skipsTail},
		kernel{"overwrites-dst", overwrites},
		kernel{"drops-nan", dropsNaN},
		kernel{"accepts-bad-padding", acceptsBadPadding},
		kernel{"panics-on-bad-id", panicsOnBadID},
		kernel{"accepts-overlap", acceptsOverlap},
		kernel{"accepts-huge-vocabulary", acceptsHugeVocabulary},
		kernel{"adds-fresh-gradient", addsFreshGradient},
		flipFlop{},
		workerDependent{workers: 1},
		scratchLeavesGarbage{},
	}
}

// Reordered returns correct kernels whose summation orders differ from the
// reference loop's.
func Reordered() []embgrad.Kernel {
	return []embgrad.Kernel{
		kernel{"reverse-order", reverse},
		kernel{"float64-accumulation", float64Accumulation},
		kernel{"sorted-segment-sums", sortedSegmentSums},
		columnBlocks{workers: 1},
	}
}

// call is one Backward call's arguments.
type call struct {
	dst     []float32
	V, D    int
	ids     []int32
	gradOut []float32
	opt     embgrad.Options
}

type kernel struct {
	name string
	run  func(call) error
}

func (k kernel) Name() string { return k.name }

func (k kernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return k.run(call{dst, V, D, ids, gradOut, opt})
}

func (c call) validate() error { return embgrad.Validate(c.dst, c.V, c.D, c.ids, c.gradOut, c.opt) }

// counts of contributing positions per row.
func (c call) counts() map[int32]int {
	m := map[int32]int{}
	for _, id := range c.ids {
		if !c.opt.Skips(id) {
			m[id]++
		}
	}
	return m
}

// add does dst[ids[i]] += s·g[i] for the positions in order.
func (c call) add(order []int) {
	counts := c.counts()
	for _, i := range order {
		c.addCols(i, counts, 0, c.D)
	}
}

// addCols adds position i's columns [lo, hi) into its row.
func (c call) addCols(i int, counts map[int32]int, lo, hi int) {
	id := c.ids[i]
	if c.opt.Skips(id) {
		return
	}
	s := c.scale(counts[id])
	for j := lo; j < hi; j++ {
		c.dst[int(id)*c.D+j] += s * c.gradOut[i*c.D+j]
	}
}

// scale is the factor for a row that occurs n times.
func (c call) scale(n int) float32 {
	if c.opt.ScaleGradByFreq {
		return 1 / float32(n)
	}
	return 1
}

func positions(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

func forward(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	c.add(positions(len(c.ids)))
	return nil
}

func reverse(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	p := positions(len(c.ids))
	slices.Reverse(p)
	c.add(p)
	return nil
}

// dropsDuplicates keeps only the last occurrence of each row, the bug of a
// vectorised "dst[ids] += g" without accumulation.
func dropsDuplicates(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	last := map[int32]int{}
	for i, id := range c.ids {
		last[id] = i
	}
	var keep []int
	for i, id := range c.ids {
		if last[id] == i {
			keep = append(keep, i)
		}
	}
	c.add(keep)
	return nil
}

func skipsLastToken(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	p := positions(len(c.ids))
	if len(p) > 0 {
		p = p[:len(p)-1]
	}
	c.add(p)
	return nil
}

// writesBeforeValidating checks shapes up front but each id only when it
// reaches it, so a bad id late in the batch leaves earlier rows modified.
func writesBeforeValidating(c call) error {
	if err := embgrad.Validate(c.dst, c.V, c.D, nil, c.gradOut[:0], c.opt); err != nil {
		return err
	}
	if len(c.gradOut) != len(c.ids)*c.D {
		return embgrad.ErrInvalidInput
	}
	counts := c.counts()
	for i, id := range c.ids {
		if id < 0 || int(id) >= c.V {
			return &embgrad.IDError{Pos: i, ID: id, V: c.V}
		}
		c.addCols(i, counts, 0, c.D)
	}
	return nil
}

// mutatesGradOut scales the caller's gradient in place.
func mutatesGradOut(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	counts := c.counts()
	for i, id := range c.ids {
		if c.opt.Skips(id) {
			continue
		}
		g := c.gradOut[i*c.D : (i+1)*c.D]
		if c.opt.ScaleGradByFreq {
			s := 1 / float32(counts[id])
			for j := range g {
				g[j] *= s
			}
		}
		for j, x := range g {
			c.dst[int(id)*c.D+j] += x
		}
	}
	return nil
}

// scalesByRunningCount divides by the occurrences seen so far instead of the
// batch total.
func scalesByRunningCount(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	seen := map[int32]int{}
	for i, id := range c.ids {
		if c.opt.Skips(id) {
			continue
		}
		seen[id]++
		s := c.scale(seen[id])
		for j := 0; j < c.D; j++ {
			c.dst[int(id)*c.D+j] += s * c.gradOut[i*c.D+j]
		}
	}
	return nil
}

// skipsTail handles only whole 8-wide blocks of columns, the classic SIMD
// tail bug.
func skipsTail(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	wide := c.D - c.D%8
	counts := c.counts()
	for i := range c.ids {
		c.addCols(i, counts, 0, wide)
	}
	return nil
}

// overwrites computes the gradient from scratch, discarding what dst held.
func overwrites(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	for _, id := range c.ids {
		if !c.opt.Skips(id) {
			clear(c.dst[int(id)*c.D : int(id)*c.D+c.D])
		}
	}
	c.add(positions(len(c.ids)))
	return nil
}

func dropsNaN(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	g := slices.Clone(c.gradOut)
	for k, x := range g {
		if x != x {
			g[k] = 0
		}
	}
	c.gradOut = g
	c.add(positions(len(c.ids)))
	return nil
}

// acceptsBadPadding forgets to range-check the padding index.
func acceptsBadPadding(c call) error {
	o := c.opt
	c.opt.HasPadding = false
	if err := c.validate(); err != nil {
		return err
	}
	c.opt = o
	c.add(positions(len(c.ids)))
	return nil
}

// panicsOnBadID checks lengths but not ids, and indexes out of range.
func panicsOnBadID(c call) error {
	if err := embgrad.Validate(c.dst, c.V, c.D, nil, c.gradOut[:0], c.opt); err != nil {
		return err
	}
	if len(c.gradOut) != len(c.ids)*c.D {
		return embgrad.ErrInvalidInput
	}
	c.add(positions(len(c.ids)))
	return nil
}

// acceptsOverlap validates a copy of dst, so it never sees dst sharing
// memory with gradOut or ids, and then reads what it has written.
func acceptsOverlap(c call) error {
	if err := embgrad.Validate(make([]float32, len(c.dst)), c.V, c.D, c.ids, c.gradOut, c.opt); err != nil {
		return err
	}
	c.add(positions(len(c.ids)))
	return nil
}

// acceptsHugeVocabulary checks V against MaxV only through V·D, so with
// D = 0 any V passes (a kernel that then sized a table by V would allocate
// without bound).
func acceptsHugeVocabulary(c call) error {
	V := c.V
	if c.D == 0 {
		V = min(V, embgrad.MaxV)
	}
	if err := embgrad.Validate(c.dst, V, c.D, c.ids, c.gradOut, c.opt); err != nil {
		return err
	}
	c.V = V
	c.add(positions(len(c.ids)))
	return nil
}

// addsFreshGradient computes the gradient into a fresh zeroed table and
// adds all of it into dst, as a wrapper of a library that returns a fresh
// gradient might: untouched rows get +0 added, which turns −0 into +0.
func addsFreshGradient(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	fresh := c
	fresh.dst = make([]float32, len(c.dst))
	fresh.add(positions(len(c.ids)))
	for k, x := range fresh.dst {
		c.dst[k] += x
	}
	return nil
}

// float64Accumulation sums each row in float64 and rounds once.
func float64Accumulation(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	counts := c.counts()
	acc := map[int32][]float64{}
	for i, id := range c.ids {
		if c.opt.Skips(id) {
			continue
		}
		row, ok := acc[id]
		if !ok {
			row = make([]float64, c.D)
			for j := range row {
				row[j] = float64(c.dst[int(id)*c.D+j])
			}
			acc[id] = row
		}
		s := 1.0
		if c.opt.ScaleGradByFreq {
			s = 1 / float64(counts[id])
		}
		for j := range row {
			row[j] += s * float64(c.gradOut[i*c.D+j])
		}
	}
	for id, row := range acc {
		for j, x := range row {
			c.dst[int(id)*c.D+j] = float32(x)
		}
	}
	return nil
}

// sortedSegmentSums sorts positions by id, sums each segment from zero, then
// adds the sum into dst once.
func sortedSegmentSums(c call) error {
	if err := c.validate(); err != nil {
		return err
	}
	p := positions(len(c.ids))
	slices.SortStableFunc(p, func(a, b int) int { return int(c.ids[a]) - int(c.ids[b]) })
	sum := make([]float32, c.D)
	for start := 0; start < len(p); {
		id := c.ids[p[start]]
		end := start
		for end < len(p) && c.ids[p[end]] == id {
			end++
		}
		if !c.opt.Skips(id) {
			s := c.scale(end - start)
			clear(sum)
			for _, i := range p[start:end] {
				for j := range sum {
					sum[j] += s * c.gradOut[i*c.D+j]
				}
			}
			for j, x := range sum {
				c.dst[int(id)*c.D+j] += x
			}
		}
		start = end
	}
	return nil
}

// flipFlop claims determinism but sums in reverse on every other call, so its
// bits change from run to run on real-valued data with duplicates.
type flipFlop struct{}

var flips atomic.Uint64

func (flipFlop) Name() string { return "nondeterministic-across-calls" }

func (flipFlop) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	c := call{dst, V, D, ids, gradOut, opt}
	if flips.Add(1)%2 == 0 {
		return reverse(c)
	}
	return forward(c)
}

// workerDependent splits positions into one chunk per worker and adds the
// chunks' partial sums in turn, so its bits depend on the worker count. (It
// runs the chunks sequentially: the bug is the order, not a data race.)
type workerDependent struct{ workers int }

func (w workerDependent) Name() string { return "worker-count-dependent" }

func (w workerDependent) WithWorkers(n int) embgrad.Kernel { return workerDependent{workers: n} }

func (w workerDependent) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	c := call{dst, V, D, ids, gradOut, opt}
	if err := c.validate(); err != nil {
		return err
	}
	counts := c.counts()
	n := len(ids)
	for w0 := 0; w0 < w.workers; w0++ {
		partial := map[int32][]float32{}
		for i := w0 * n / w.workers; i < (w0+1)*n/w.workers; i++ {
			id := ids[i]
			if opt.Skips(id) {
				continue
			}
			row, ok := partial[id]
			if !ok {
				row = make([]float32, D)
				partial[id] = row
			}
			s := c.scale(counts[id])
			for j := range row {
				row[j] += s * gradOut[i*D+j]
			}
		}
		for id, row := range partial {
			for j, x := range row {
				dst[int(id)*D+j] += x
			}
		}
	}
	return nil
}

// columnBlocks is a correct "parallel" kernel: each worker owns a block of
// columns and walks all positions in order, so every element is summed in
// the same order whatever the worker count.
type columnBlocks struct{ workers int }

func (columnBlocks) Name() string { return "column-blocks" }

func (k columnBlocks) WithWorkers(n int) embgrad.Kernel { return columnBlocks{workers: n} }

func (k columnBlocks) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	c := call{dst, V, D, ids, gradOut, opt}
	if err := c.validate(); err != nil {
		return err
	}
	counts := c.counts()
	for w := 0; w < k.workers; w++ {
		lo, hi := w*D/k.workers, (w+1)*D/k.workers
		for i := range ids {
			c.addCols(i, counts, lo, hi)
		}
	}
	return nil
}

// scratchLeavesGarbage has a from-scratch path that clears only the rows it
// touches, leaving the rest of dst as the caller's garbage.
type scratchLeavesGarbage struct{}

func (scratchLeavesGarbage) Name() string { return "scratch-leaves-garbage" }

func (scratchLeavesGarbage) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return forward(call{dst, V, D, ids, gradOut, opt})
}

func (scratchLeavesGarbage) BackwardScratch(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return overwrites(call{dst, V, D, ids, gradOut, opt})
}

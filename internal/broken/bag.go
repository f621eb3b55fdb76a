package broken

import (
	"slices"

	"github.com/embgrad/embgrad"
)

// FaultyBag returns bag kernels that each break the contract in one way;
// Name says how.
func FaultyBag() []embgrad.BagKernel {
	return []embgrad.BagKernel{
		bagLoop{name: "counts-by-loop-counter", countByLoop: true},
		bagLoop{name: "mean-counts-padding", meanCountsPadding: true},
		bagLoop{name: "last-tie-wins", lastTieWins: true},
		bagLoop{name: "splits-ties", splitTies: true},
		bagLoop{name: "empty-bag-to-row-0", emptyToRow0: true},
		bagLoop{name: "dw-from-wrong-row", dwWrongRow: true},
		bagLoop{name: "writes-before-validating", validateLate: true},
		bagLoop{name: "nondeterministic-workers", workerOrder: true},
	}
}

// ReorderedBag returns correct bag kernels whose summation orders differ
// from the reference loop's.
func ReorderedBag() []embgrad.BagKernel {
	return []embgrad.BagKernel{
		bagLoop{name: "bag-loop"},
		bagLoop{name: "bag-reversed", reverse: true},
	}
}

// bagLoop is the reference loop of embgrad.BagKernel with hooks for
// breaking it. It allocates freely.
type bagLoop struct {
	name string
	// countByLoop is pytorch issue 190063: with scale_grad_by_freq the
	// count is looked up by the loop counter over unique ids (the u-th
	// entry of the sorted ids) instead of by the id.
	countByLoop       bool
	meanCountsPadding bool // mean divides by the bag's length, padding included
	lastTieWins       bool // its forward takes the last occurrence of a tie
	splitTies         bool // max's gradient split evenly among ids tied with the winner (read from E)
	emptyToRow0       bool // an empty bag's max index -1 taken as row 0
	dwWrongRow        bool // dw[i] from the bag's first id's row, not ids[i]'s
	validateLate      bool // writes dst before validating
	reverse           bool // positions visited last to first
	workerOrder       bool // with n workers, each element's terms summed in a rotated order
	workers           int
}

func (k bagLoop) Name() string { return k.name }

// WithBagWorkers implements embgrad.BagParallel for the worker-order fault
// (the others ignore n).
func (k bagLoop) WithBagWorkers(n int) embgrad.BagKernel { k.workers = n; return k }

// BagForward is embgrad.BagForward, but for last-tie-wins' max with ≥.
func (k bagLoop) BagForward(out []float32, maxIndices []int32, E []float32, V, D int, ids, offsets []int32, weights []float32, opt embgrad.BagOptions) error {
	if err := embgrad.BagForward(out, maxIndices, E, V, D, ids, offsets, weights, opt); err != nil || !k.lastTieWins || opt.Mode != embgrad.BagMax {
		return err
	}
	a := embgrad.BagArgs{V: V, D: D, IDs: ids, Offsets: offsets, Opt: opt}
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		for i := lo; i < hi; i++ {
			if id := ids[i]; !opt.Skips(id) {
				for j := range D {
					if E[int(id)*D+j] >= out[b*D+j] {
						maxIndices[b*D+j] = id
					}
				}
			}
		}
	}
	return nil
}

func (k bagLoop) BagBackward(dst, dw []float32, a embgrad.BagArgs) error {
	if k.validateLate && len(dst) > 0 {
		dst[0]++
	}
	if err := embgrad.ValidateBag(dst, dw, a); err != nil {
		return err
	}
	D := a.D
	if D == 0 {
		clear(dw)
		return nil
	}
	if a.Opt.Mode == embgrad.BagMax {
		return k.max(dst, a)
	}
	count := map[int32]int{}
	for _, id := range a.IDs {
		if !a.Opt.Skips(id) {
			count[id]++
		}
	}
	scaleOf := func(id int32) float32 { return 1 / float32(count[id]) }
	if k.countByLoop {
		sorted := slices.Clone(a.IDs)
		slices.Sort(sorted)
		group := map[int32]int{} // id → its rank among the distinct ids
		for _, id := range sorted {
			if _, ok := group[id]; !ok {
				group[id] = len(group)
			}
		}
		scaleOf = func(id int32) float32 {
			c := count[sorted[group[id]]]
			if c == 0 {
				c = 1
			}
			return 1 / float32(c)
		}
	}
	type term struct {
		i, b int
		s    float32
	}
	var terms []term
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		n := 0
		for _, id := range a.IDs[lo:hi] {
			if !a.Opt.Skips(id) {
				n++
			}
		}
		if k.meanCountsPadding {
			n = hi - lo
		}
		for i := lo; i < hi; i++ {
			id := a.IDs[i]
			if a.Opt.Skips(id) {
				if a.Weights != nil {
					dw[i] = 0
				}
				continue
			}
			s := float32(1)
			if a.Opt.ScaleGradByFreq {
				s = scaleOf(id)
			}
			if a.Opt.Mode == embgrad.BagMean {
				s = float32(s * (1 / float32(n)))
			}
			if a.Weights != nil {
				s = float32(s * a.Weights[i])
				row := id
				if k.dwWrongRow {
					row = a.IDs[lo]
				}
				var dot float32
				for j := range D {
					dot += float32(a.GradOut[b*D+j] * a.E[int(row)*D+j])
				}
				dw[i] = dot
			}
			terms = append(terms, term{i, b, s})
		}
	}
	if k.reverse {
		slices.Reverse(terms)
	}
	if k.workerOrder && k.workers > 1 && len(terms) > 0 {
		r := k.workers % len(terms)
		terms = append(terms[r:], terms[:r]...)
	}
	for _, t := range terms {
		id := a.IDs[t.i]
		for j := range D {
			dst[int(id)*D+j] += float32(t.s * a.GradOut[t.b*D+j])
		}
	}
	return nil
}

func (k bagLoop) max(dst []float32, a embgrad.BagArgs) error {
	D := a.D
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		for j := range D {
			m := a.MaxIndices[b*D+j]
			g := a.GradOut[b*D+j]
			if m < 0 {
				if !k.emptyToRow0 {
					continue
				}
				m = 0
			}
			if k.splitTies && a.E != nil {
				var tied []int32
				for _, id := range a.IDs[lo:hi] {
					if !a.Opt.Skips(id) && !slices.Contains(tied, id) && a.E[int(id)*D+j] == a.E[int(m)*D+j] {
						tied = append(tied, id)
					}
				}
				for _, id := range tied {
					dst[int(id)*D+j] += g / float32(len(tied))
				}
				continue
			}
			dst[int(m)*D+j] += g
		}
	}
	return nil
}

package broken

import (
	"slices"

	"github.com/embgrad/embgrad"
)

// FaultySparse returns sparse kernels that each break the contract in one
// way; Name says how.
func FaultySparse() []embgrad.SparseKernel {
	return []embgrad.SparseKernel{
		sparseLoop{name: "unsorted-rows", descending: true},
		sparseLoop{name: "duplicated-row", splitFirst: true},
		sparseLoop{name: "keeps-padding-row", keepPadding: true},
		sparseLoop{name: "drops-last-row", dropLast: true},
		sparseLoop{name: "scales-by-batch-count", countAll: true},
		sparseLoop{name: "writes-before-validating", validateLate: true},
		sparseLoop{name: "writes-past-U", strayRow: true},
		sparseLoop{name: "writes-past-values", strayCap: true},
		sparseLoop{name: "mutates-gradOut", mutate: true},
		sparseLoop{name: "skips-nan", skipNaN: true},
		sparseWorkerDependent{sparseLoop{name: "worker-dependent"}},
	}
}

// sparseWorkerDependent is an embgrad.SparseParallel kernel whose sums are
// right at every worker count but whose bits are not the same across
// counts: with n workers each row's sum starts at its (n−1)-th occurrence.
type sparseWorkerDependent struct{ sparseLoop }

func (k sparseWorkerDependent) WithSparseWorkers(n int) embgrad.SparseKernel {
	k.rotate = max(n, 1) - 1
	return k
}

// ReorderedSparse returns correct sparse kernels whose summation orders
// differ from the reference loop's.
func ReorderedSparse() []embgrad.SparseKernel {
	return []embgrad.SparseKernel{
		sparseLoop{name: "sparse-loop"},
		sparseLoop{name: "sparse-reversed-sum", reverseSum: true},
	}
}

// sparseLoop is the reference loop of embgrad.SparseKernel with hooks for
// breaking it. It allocates freely.
type sparseLoop struct {
	name         string
	descending   bool // rows in descending order
	splitFirst   bool // the first row with two occurrences is listed twice, one occurrence each
	keepPadding  bool // padding positions contribute like any other
	dropLast     bool // the last row is left out
	countAll     bool // scale by 1/(contributing positions in the batch), not per id
	validateLate bool // outputs written before validating
	strayRow     bool // writes rows[U] when there is room
	reverseSum   bool // each row summed from its last occurrence to its first
	strayCap     bool // writes values one past its length, within its capacity
	mutate       bool // negates gradOut[0] after the call
	skipNaN      bool // leaves NaN terms out
	rotate       int  // each row summed from its rotate-th occurrence (mod count), wrapping around
}

func (k sparseLoop) Name() string { return k.name }

func (k sparseLoop) Sparse(rows []int32, values []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (int, error) {
	if !k.validateLate {
		if err := embgrad.ValidateSparse(rows, values, V, D, ids, gradOut, opt); err != nil {
			return 0, err
		}
	} else {
		if len(rows) > 0 {
			rows[0] ^= 1
		}
		if err := embgrad.ValidateSparse(rows, values, V, D, ids, gradOut, opt); err != nil {
			return 0, err
		}
	}
	skip := opt.Skips
	if k.keepPadding {
		skip = func(int32) bool { return false }
	}
	var distinct []int32
	count := map[int32]int{}
	total := 0
	for _, id := range ids {
		if skip(id) {
			continue
		}
		count[id]++
		total++
		distinct = append(distinct, id)
	}
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	if k.descending {
		slices.Reverse(distinct)
	}
	if k.dropLast && len(distinct) > 0 {
		distinct = distinct[:len(distinct)-1]
	}
	U := 0
	emit := func(id int32, pos []int) {
		rows[U] = id
		out := values[U*D : (U+1)*D]
		clear(out)
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(count[id])
			if k.countAll {
				s = 1 / float32(total)
			}
		}
		for _, i := range pos {
			for j := range out {
				if x := gradOut[i*D+j]; !k.skipNaN || x == x {
					out[j] += float32(s * x)
				}
			}
		}
		U++
	}
	split := k.splitFirst
	for _, id := range distinct {
		var pos []int
		for i, x := range ids {
			if x == id && !skip(x) {
				pos = append(pos, i)
			}
		}
		if k.reverseSum {
			slices.Reverse(pos)
		}
		if r := k.rotate; r > 0 && len(pos) > 1 {
			pos = append(pos[r%len(pos):], pos[:r%len(pos)]...)
		}
		if split && len(pos) >= 2 {
			split = false
			emit(id, pos[:1])
			emit(id, pos[1:])
			continue
		}
		emit(id, pos)
	}
	if k.strayRow && U < len(rows) {
		rows[U] = 0
	}
	if k.strayCap && len(values) < cap(values) {
		values[:len(values)+1][len(values)] = 0
	}
	if k.mutate && len(gradOut) > 0 {
		gradOut[0] = -gradOut[0]
	}
	return U, nil
}

package embgrad

import "fmt"

// SparseKernel computes the embedding backward pass as a coalesced sparse
// gradient: the U distinct non-padding ids in ascending order, and for each
// the sum of its scaled gradOut rows, the numbers a Kernel adds into that
// row of a zero dst. It implements exactly this loop (D-column rows, s as in
// the Kernel loop):
//
//	U := 0
//	for each distinct id in ids, ascending, unless opt.Skips(id) {
//		rows[U] = id
//		clear(values[U*D : (U+1)*D])
//		for i := range ids where ids[i] == id {
//			for j := 0; j < D; j++ {
//				values[U*D+j] += float32(s * gradOut[i*D+j]) // product rounded once
//			}
//		}
//		U++
//	}
//	return U
//
// The buffer rule: rows and values are the caller's, reused across calls.
// Since U ≤ len(ids), a kernel needs len(rows) ≥ len(ids) and
// len(values) ≥ len(ids)·D whatever ids hold, so the sizes are checked
// before any work (ValidateSparse); a smaller buffer is an error wrapping
// ErrInvalidInput that names the length needed. A kernel writes only
// rows[:U] and values[:U·D] (overwriting, not adding) and leaves the rest
// of both buffers unchanged; rows with no contributing occurrence (never
// named, or padding) are absent, so an all-padding batch gives U = 0.
//
// The Kernel rules hold otherwise: validation (ValidateSparse) before any
// write, outputs unchanged on error, ids and gradOut read-only, NaN and ±Inf
// propagate, safe for concurrent use on distinct outputs, duplicates summed
// in any order but deterministically, each value within the dense bound
// (reference.SparseOracle), a single unscaled occurrence bit-exact.
type SparseKernel interface {
	// Name is a short identifier, used in benchmark names (impl=<Name>).
	Name() string
	// Sparse writes the coalesced gradient of gradOut (len(ids)×D) gathered
	// by ids into rows[:U] and values[:U*D] and returns U. On error it
	// returns 0 and rows and values are unchanged.
	Sparse(rows []int32, values []float32, V, D int, ids []int32, gradOut []float32, opt Options) (int, error)
}

// ValidateSparse checks a Sparse call's inputs with Validate's rules (ids,
// lengths, padding, MaxV) and the buffer rule of SparseKernel, and rejects
// an output sharing memory with an input or with the other output.
func ValidateSparse(rows []int32, values []float32, V, D int, ids []int32, gradOut []float32, opt Options) error {
	nd, err := sparseInputs(V, D, ids, gradOut)
	if err != nil {
		return err
	}
	if len(rows) < len(ids) {
		return invalid("len(rows) = %d is too small: need at least len(ids) = %d", len(rows), len(ids))
	}
	if len(values) < nd {
		return invalid("len(values) = %d is too small: need at least len(ids)*D = %d*%d = %d", len(values), len(ids), D, nd)
	}
	for _, o := range []struct {
		name string
		hit  bool
	}{
		{"rows overlaps values", overlap(rows, values)},
		{"rows overlaps ids", overlap(rows, ids)},
		{"rows overlaps gradOut", overlap(rows, gradOut)},
		{"values overlaps ids", overlap(values, ids)},
		{"values overlaps gradOut", overlap(values, gradOut)},
	} {
		if o.hit {
			return invalid("%s (outputs must not share memory with an input or each other)", o.name)
		}
	}
	return sparseIDs(V, ids, opt)
}

// sparseInputs checks the shape and gradOut's length and returns len(ids)·D.
func sparseInputs(V, D int, ids []int32, gradOut []float32) (int, error) {
	if _, err := product("V", V, "D", D); err != nil {
		return 0, err
	}
	if V > MaxV {
		return 0, invalid("V = %d is above MaxV = %d (ids are int32)", V, MaxV)
	}
	nd, err := product("len(ids)", len(ids), "D", D)
	if err != nil {
		return 0, err
	}
	if len(gradOut) != nd {
		return 0, &LengthError{"gradOut", len(gradOut), nd, fmt.Sprintf("len(ids)*D = %d*%d", len(ids), D)}
	}
	return nd, nil
}

// sparseIDs checks the padding index and the ids.
func sparseIDs(V int, ids []int32, opt Options) error {
	if opt.HasPadding && (opt.PaddingIdx < 0 || int(opt.PaddingIdx) >= V) {
		return invalid("padding index %d is outside [0, %d)", opt.PaddingIdx, V)
	}
	if i := firstBadID(ids, V); i >= 0 {
		return &IDError{Pos: i, ID: ids[i], V: V}
	}
	return nil
}

// Densify adds a sparse gradient (rows[:U], values[:U*D]) into dst (V×D):
// dst[rows[u]*D+j] += values[u*D+j]. It validates first (dst's length, U
// within both buffers, every row in [0, V), rows strictly ascending, dst
// sharing no memory with rows or values), leaving dst unchanged on error.
func Densify(dst []float32, V, D int, rows []int32, values []float32, U int) error {
	vd, err := product("V", V, "D", D)
	if err != nil {
		return err
	}
	if len(dst) != vd {
		return &LengthError{"dst", len(dst), vd, fmt.Sprintf("V*D = %d*%d", V, D)}
	}
	ud, err := product("U", U, "D", D)
	if err != nil {
		return err
	}
	if U > len(rows) || ud > len(values) {
		return invalid("U = %d exceeds len(rows) = %d or len(values)/D = %d/%d", U, len(rows), len(values), D)
	}
	if err := disjoint(dst, "rows", rows[:U]); err != nil {
		return err
	}
	if err := disjoint(dst, "values", values[:ud]); err != nil {
		return err
	}
	for u, r := range rows[:U] {
		if r < 0 || int(r) >= V {
			return invalid("rows[%d] = %d is outside [0, %d)", u, r, V)
		}
		if u > 0 && r <= rows[u-1] {
			return invalid("rows[%d] = %d does not follow rows[%d] = %d (rows must be strictly ascending)", u, r, u-1, rows[u-1])
		}
	}
	for u, r := range rows[:U] {
		d, v := dst[int(r)*D:int(r+1)*D], values[u*D:(u+1)*D]
		for j := range d {
			d[j] += v[j]
		}
	}
	return nil
}

// Uncoalesced returns PyTorch's sparse=True gradient, before coalesce():
// indices are the non-padding ids in input order and values their gradOut
// rows, duplicates uncombined. Like torch it rejects ScaleGradByFreq. It
// validates as Validate does and allocates its results.
func Uncoalesced(V, D int, ids []int32, gradOut []float32, opt Options) (indices []int32, values []float32, err error) {
	if opt.ScaleGradByFreq {
		return nil, nil, invalid("the uncoalesced form does not support ScaleGradByFreq (as torch's sparse=True)")
	}
	if _, err := sparseInputs(V, D, ids, gradOut); err != nil {
		return nil, nil, err
	}
	if err := sparseIDs(V, ids, opt); err != nil {
		return nil, nil, err
	}
	indices, values = []int32{}, []float32{}
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		indices = append(indices, id)
		values = append(values, gradOut[i*D:(i+1)*D]...)
	}
	return indices, values, nil
}

// SparseParallel is implemented by sparse kernels with a configurable number
// of workers (n ≥ 1); their results must be bitwise identical for every
// worker count, which the kernels' tests and the benchmarks (workers=<n>)
// use it for.
type SparseParallel interface {
	WithSparseWorkers(n int) SparseKernel
}

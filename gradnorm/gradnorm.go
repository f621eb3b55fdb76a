// Package gradnorm measures and clips the gradient of an embedding table:
// per-row L2 norms, the global norm over several tensors, clipping with
// torch.nn.utils.clip_grad_norm_ semantics and per-row max-norm
// renormalisation with torch.embedding_renorm_ semantics.
//
// A gradient is a Grad: dense (V×D row-major float32) or sparse (a coalesced
// set of U rows of a V×D table, U×D values). A sparse gradient's norm is the
// norm of its values, which is right only when the values are coalesced (each
// row at most once): with a row split over two entries a and b the norm of the
// entries counts a²+b² where the row's gradient has (a+b)², so the norm of an
// uncoalesced gradient is wrong by an amount that depends on how the backward
// happened to split its duplicates. Grad.Validate therefore refuses
// uncoalesced rows; Coalesce sums them.
//
// Norms are accumulated in float64. A float32 squared is exact in float64 (24
// bits squared fit 53, and the float32 range squared fits the float64 range),
// so a norm over n elements has only the summation's error: relative error at
// most about n·2⁻⁵³ (terms are non-negative, so there is no cancellation),
// which is far below a float32 ulp for any table that fits in memory. As the
// squares are exact, fusing them into FMAs (GOAMD64=v3) changes no bit. NaN and
// ±Inf are never hidden: a NaN element makes the norm NaN, an Inf element
// (and no NaN) makes it +Inf; FirstNonfinite says where.
//
// Errors wrap embgrad.ErrInvalidInput and name the problem; every function
// validates all its inputs before its first write, so on error its outputs
// are unchanged. Gradients passed together must not share memory
// (ValidateGrads): clipping would scale a shared element twice.
//
// Impl is the interface the checks take: Serial is this package's
// functions, impl/normpar a parallel implementation with the same bits for
// every worker count (the total's partials are fixed ChunkLen blocks, added
// in order). The checks are gradcheck.NormChecks (against the float64
// oracles reference.RowNorms64 and reference.TotalNorm64, non-finite
// values, invalid input) and property.NormChecks (clip bound, bitwise
// no-op, direction, 2ᵏ scaling, split/join, coalesced sparse norms), on
// the suite engine's guarded calls suite.RowNorms, suite.TotalNorm and
// suite.Clip; internal/broken.FaultyNorms are the implementations they must
// catch. The checks live in gradcheck and property, like every other
// form's, rather than in a gradnorm/normtest package, so that the suites
// keep one home and one self-test layout.
package gradnorm

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/embgrad/embgrad"
)

// Grad is one tensor's gradient.
type Grad struct {
	V, D int
	// Sparse selects the sparse form: Values holds len(Rows) rows of D.
	Sparse bool
	// Rows names the table row of each value row (sparse only); coalesced
	// means strictly increasing, as torch's coalesce leaves them.
	Rows []int32
	// Values is V×D (dense) or len(Rows)×D (sparse), row-major.
	Values []float32
}

// Dense returns the dense gradient of a V×D table.
func Dense(values []float32, V, D int) Grad { return Grad{V: V, D: D, Values: values} }

// SparseGrad returns the sparse gradient of a V×D table with the given rows.
func SparseGrad(rows []int32, values []float32, V, D int) Grad {
	return Grad{V: V, D: D, Sparse: true, Rows: rows, Values: values}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: gradnorm: "+format, append([]any{embgrad.ErrInvalidInput}, args...)...)
}

// nrows is the number of value rows, validating the shape.
func (g Grad) nrows() (int, error) {
	if g.V < 0 || g.D < 0 {
		return 0, invalid("negative shape V=%d D=%d", g.V, g.D)
	}
	n := g.V
	if g.Sparse {
		n = len(g.Rows)
	} else if g.Rows != nil {
		return 0, invalid("dense gradient with Rows set")
	}
	if g.D != 0 && n > math.MaxInt/g.D {
		return 0, invalid("%d rows × D=%d overflows int", n, g.D)
	}
	if len(g.Values) != n*g.D {
		return 0, invalid("len(Values)=%d, want %d×%d=%d", len(g.Values), n, g.D, n*g.D)
	}
	return n, nil
}

// Validate checks the shape and, for a sparse gradient, that its rows lie in
// [0, V) and are coalesced (strictly increasing).
func (g Grad) Validate() error {
	if _, err := g.nrows(); err != nil {
		return err
	}
	for i, r := range g.Rows {
		if r < 0 || int(r) >= g.V {
			return invalid("sparse row %d at position %d outside [0, %d)", r, i, g.V)
		}
		if i > 0 && r <= g.Rows[i-1] {
			if r == g.Rows[i-1] {
				return invalid("uncoalesced sparse gradient: row %d at positions %d and %d (Coalesce it first)", r, i-1, i)
			}
			return invalid("uncoalesced sparse gradient: row %d at position %d after row %d (Coalesce it first)", r, i, g.Rows[i-1])
		}
	}
	return nil
}

// Coalesce returns g with its rows sorted and duplicates summed (in float32,
// in the order they appear in g, as a sequential scatter-add would), in new
// slices; g is not modified. A dense g is returned as it is.
func Coalesce(g Grad) (Grad, error) {
	n, err := g.nrows()
	if err != nil || !g.Sparse {
		return g, err
	}
	for i, r := range g.Rows {
		if r < 0 || int(r) >= g.V {
			return g, invalid("sparse row %d at position %d outside [0, %d)", r, i, g.V)
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(g.Rows[a], g.Rows[b]) })
	out := Grad{V: g.V, D: g.D, Sparse: true, Rows: []int32{}, Values: []float32{}}
	D := g.D
	for k, i := range order {
		src := g.Values[i*D : (i+1)*D]
		if k > 0 && g.Rows[i] == g.Rows[order[k-1]] {
			dst := out.Values[len(out.Values)-D:]
			for j := range dst {
				dst[j] += src[j]
			}
			continue
		}
		out.Rows = append(out.Rows, g.Rows[i])
		out.Values = append(out.Values, src...)
	}
	return out, nil
}

// NonfiniteError reports the first NaN or ±Inf element of a set of gradients.
type NonfiniteError struct {
	Tensor int     // index of the gradient in the list
	Row    int     // table row (a sparse gradient's Rows entry)
	Col    int     // column within the row
	Value  float32 // the element
}

func (e *NonfiniteError) Error() string {
	return fmt.Sprintf("%v: gradnorm: non-finite gradient: tensor %d row %d col %d is %v",
		embgrad.ErrInvalidInput, e.Tensor, e.Row, e.Col, e.Value)
}

func (e *NonfiniteError) Unwrap() error { return embgrad.ErrInvalidInput }

// FirstNonfinite returns the first NaN or ±Inf element of grads (in tensor,
// then row-major order), or nil when all are finite. It does not validate
// grads beyond what indexing needs; call Validate for that.
func FirstNonfinite(grads []Grad) *NonfiniteError {
	for t, g := range grads {
		for i, x := range g.Values {
			if isNonfinite(x) {
				row := i / g.D
				if g.Sparse {
					row = int(g.Rows[row])
				}
				return &NonfiniteError{Tensor: t, Row: row, Col: i % g.D, Value: x}
			}
		}
	}
	return nil
}

// isNonfinite is true for NaN and ±Inf: their exponent bits are all ones.
func isNonfinite(x float32) bool { return math.Float32bits(x)&0x7f800000 == 0x7f800000 }

// RowNorms writes the L2 norm of each value row of g into dst: for a dense
// gradient dst[r] is the norm of table row r (len(dst) == V); for a sparse
// one dst[k] is the norm of the row g.Rows[k] (len(dst) == len(g.Rows)).
// dst is float64 so that no second rounding hides small differences; convert
// it if float32 is wanted. A row with a NaN has norm NaN; one with ±Inf and
// no NaN, +Inf.
func RowNorms(dst []float64, g Grad) error {
	if err := ValidateRowNorms(dst, g); err != nil {
		return err
	}
	rowNorms(dst, g.Values, g.D)
	return nil
}

// ValidateRowNorms checks RowNorms' arguments: g valid, one dst element per
// value row, and dst sharing no memory with g's values or rows (a dst
// written over the values it reads would give order-dependent norms).
func ValidateRowNorms(dst []float64, g Grad) error {
	if err := g.Validate(); err != nil {
		return err
	}
	n, _ := g.nrows()
	if len(dst) != n {
		return invalid("len(dst)=%d, want %d (one per value row)", len(dst), n)
	}
	if overlap(dst, g.Values) {
		return invalid("dst overlaps the values (dst must not share memory with an input)")
	}
	if overlap(dst, g.Rows) {
		return invalid("dst overlaps the rows (dst must not share memory with an input)")
	}
	return nil
}

// rowNorms is the loop behind RowNorms over len(dst) contiguous rows, so a
// parallel version can hand each worker a block of rows (and of dst).
func rowNorms(dst []float64, values []float32, D int) {
	for r := range dst {
		dst[r] = math.Sqrt(sumSquares(values[r*D : (r+1)*D]))
	}
}

// ChunkLen is the block of elements whose sum of squares TotalNorm takes as
// one partial: the total 2-norm is the square root of the partials of each
// tensor's consecutive ChunkLen-element blocks, added in tensor then block
// order. The blocks do not depend on how many goroutines compute them, so a
// parallel implementation that computes the same partials and adds them in
// the same order gives the same bits for every worker count (impl/normpar).
const ChunkLen = 1 << 14

// SumSquares is the float64 sum of x[i]²; each square is exact. NaN
// propagates and Inf gives +Inf (Inf² + anything finite or +Inf is +Inf).
// It is exported so that parallel implementations compute the same
// per-row norms and partials bit for bit.
func SumSquares(x []float32) float64 { return sumSquares(x) }

func sumSquares(x []float32) float64 {
	// Eight independent sums: a float64 add's latency is about four
	// cycles and two can start per cycle, so fewer chains would make the
	// loop slower than reading the table from memory.
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	i := 0
	for ; i+8 <= len(x); i += 8 {
		x := x[i : i+8 : i+8]
		a, b, c, d := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
		e, f, g, h := float64(x[4]), float64(x[5]), float64(x[6]), float64(x[7])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
		s4 += e * e
		s5 += f * f
		s6 += g * g
		s7 += h * h
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// MaxAbs is max |x[i]|, NaN if any element is NaN (as torch's inf-norm).
func MaxAbs(x []float32) float64 { return maxAbs(x) }

func maxAbs(x []float32) float64 {
	var m float64
	for _, v := range x {
		a := math.Abs(float64(v))
		if a != a {
			return a
		}
		m = math.Max(m, a)
	}
	return m
}

// checkP accepts the norm types TotalNorm and ClipGradNorm implement.
func checkP(p float64) error {
	if p != 2 && !math.IsInf(p, 1) {
		return invalid("norm type p=%v not supported (want 2 or +Inf)", p)
	}
	return nil
}

// TotalNorm is the p-norm (p = 2 or +Inf) of all the gradients' values taken
// together, which is torch.nn.utils.get_total_norm: the p-norm of the
// per-tensor p-norms. For p = 2 it is computed as one float64 sum of squares
// (equal to the norm of norms in exact arithmetic, and more accurate in
// floating point); for p = +Inf it is the largest |x|, exact. No gradients,
// or only empty ones, give 0.
func TotalNorm(grads []Grad, p float64) (float64, error) {
	if err := checkP(p); err != nil {
		return 0, err
	}
	if err := ValidateGrads(grads); err != nil {
		return 0, err
	}
	return totalNorm(grads, p), nil
}

func totalNorm(grads []Grad, p float64) float64 {
	if !math.IsInf(p, 1) {
		var s float64
		for _, g := range grads {
			for lo := 0; lo < len(g.Values); lo += ChunkLen {
				s += SumSquares(g.Values[lo:min(lo+ChunkLen, len(g.Values))])
			}
		}
		return math.Sqrt(s)
	}
	{
		var m float64
		for _, g := range grads {
			a := maxAbs(g.Values)
			if a != a {
				return a
			}
			m = math.Max(m, a)
		}
		return m
	}
}

// ClipEps is added to the total norm in the clipping coefficient, as in
// torch.nn.utils.clip_grad_norm_.
const ClipEps = 1e-6

// ClipCoef is clip_grad_norm_'s coefficient max_norm / (total + 1e-6) clamped
// to at most 1, in float64. A NaN total gives NaN (the clamp does not hide
// it); an infinite one gives 0.
func ClipCoef(maxNorm, total float64) float64 {
	c := maxNorm / (total + ClipEps)
	if c > 1 {
		return 1
	}
	return c
}

// ClipGradNorm scales every gradient in place so that their total p-norm
// (p = 2 or +Inf) is at most maxNorm, with torch.nn.utils.clip_grad_norm_
// semantics (torch/nn/utils/clip_grad.py: get_total_norm, then
// clip_grads_with_norm_), and returns the total norm before clipping.
//
// The coefficient is ClipCoef(maxNorm, total), rounded once to float32; each
// element x becomes float32(x * coef32), the way torch multiplies by the
// clamped coefficient cast to the gradient's dtype. (torch computes the total
// and the coefficient in float32; here they are float64 and rounded once, so
// the coefficient can differ from torch's in the last float32 bit.) When
// coef32 is exactly 1 nothing is multiplied: x*1 is x bit for bit except
// that a signalling NaN would come back quiet, and skipping it keeps the
// no-op exact and free. maxNorm must be finite and >= 0.
//
// With errorIfNonfinite, a NaN or infinite total is an error (a
// *NonfiniteError naming the first such element) and nothing is scaled.
// Without it, as in torch, a NaN total makes every element NaN and an
// infinite total multiplies by 0 (finite elements become 0, infinite ones
// NaN); use FirstNonfinite to find the cause.
func ClipGradNorm(grads []Grad, maxNorm, p float64, errorIfNonfinite bool) (float64, error) {
	if err := ValidateClip(grads, maxNorm, p); err != nil {
		return 0, err
	}
	total := totalNorm(grads, p)
	if errorIfNonfinite {
		if err := NonfiniteTotal(grads, total); err != nil {
			return total, err
		}
	}
	c := float32(ClipCoef(maxNorm, total))
	if c == 1 {
		return total, nil
	}
	for _, g := range grads {
		Scale(g.Values, c)
	}
	return total, nil
}

// ValidateClip checks ClipGradNorm's arguments: maxNorm finite and >= 0, p
// supported, and ValidateGrads.
func ValidateClip(grads []Grad, maxNorm, p float64) error {
	if math.IsNaN(maxNorm) || math.IsInf(maxNorm, 0) || maxNorm < 0 {
		return invalid("max_norm=%v, want finite and >= 0", maxNorm)
	}
	if err := checkP(p); err != nil {
		return err
	}
	if err := ValidateGrads(grads); err != nil {
		return err
	}
	// Clipping writes the values: none may hold a tensor's rows (its
	// own or another's), which the scaling would corrupt.
	for a := range grads {
		for b := range grads {
			if overlap(grads[a].Values, grads[b].Rows) {
				return invalid("tensor %d's values share memory with tensor %d's rows (each must be its own buffer)", a, b)
			}
		}
	}
	return nil
}

// ValidateGrads validates each gradient and checks that no two share
// memory: clipping scales each tensor once, so two that overlap would have
// their shared elements scaled twice.
func ValidateGrads(grads []Grad) error {
	for t, g := range grads {
		if err := g.Validate(); err != nil {
			return fmt.Errorf("tensor %d: %w", t, err)
		}
	}
	for a := range grads {
		for b := a + 1; b < len(grads); b++ {
			if overlap(grads[a].Values, grads[b].Values) {
				return invalid("tensors %d and %d share memory (each gradient must be its own buffer)", a, b)
			}
		}
	}
	return nil
}

// overlap reports whether a and b share memory (byte ranges, any element
// types).
func overlap[A, B int32 | float32 | float64](a []A, b []B) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+unsafe.Sizeof(b[0])*uintptr(len(b)) && b0 < a0+unsafe.Sizeof(a[0])*uintptr(len(a))
}

// NonfiniteTotal returns, when total is NaN or infinite, the error
// error_if_nonfinite asks for: a *NonfiniteError naming the first such
// element of grads. It returns nil for a finite total.
func NonfiniteTotal(grads []Grad, total float64) error {
	if !math.IsNaN(total) && !math.IsInf(total, 0) {
		return nil
	}
	if e := FirstNonfinite(grads); e != nil {
		return e
	}
	// Unreachable: a non-finite total needs a non-finite element, since
	// float64 squares of float32 values cannot overflow the sum.
	return invalid("total norm %v is not finite", total)
}

// Scale multiplies x by c in place, one float32 rounding per element.
func Scale(x []float32, c float32) {
	for i := range x {
		x[i] *= c
	}
}

// RenormEps is added to a row's norm in embedding_renorm_'s scale.
const RenormEps = 1e-7

// EmbeddingRenorm renormalises, in place, the rows of the V×D table that ids
// name, with torch.embedding_renorm_ semantics (the max_norm option of
// nn.Embedding): each distinct row whose p-norm exceeds maxNorm is multiplied
// by maxNorm / (norm + 1e-7); all other rows are left untouched bit for bit.
//
// This follows torch's CPU kernel (embedding_renorm_cpu_ in
// aten/src/ATen/native/Embedding.cpp): ids are sorted and each row visited
// once; the row's norm is taken in the table's dtype and compared, as a
// double, with max_norm; the double scale is cast to float32 for the
// multiply. Here the norm is computed in float64 and rounded to float32
// (a correctly rounded version of torch's float32 norm) before the
// comparison and the scale. Like torch, it ignores padding: a padding id's
// row is renormalised like any other.
//
// p is the norm type: >= 1 (finite) or +Inf. maxNorm must be finite and
// >= 0. A row with a NaN has norm NaN, which is not > maxNorm, so it is left
// as is; a row with ±Inf has norm +Inf and is multiplied by 0, as in torch.
func EmbeddingRenorm(table []float32, V, D int, ids []int32, maxNorm, p float64) error {
	if math.IsNaN(maxNorm) || math.IsInf(maxNorm, 0) || maxNorm < 0 {
		return invalid("max_norm=%v, want finite and >= 0", maxNorm)
	}
	if !(p >= 1) || math.IsInf(p, -1) {
		return invalid("norm type p=%v, want >= 1 or +Inf", p)
	}
	if _, err := Dense(table, V, D).nrows(); err != nil {
		return err
	}
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return invalid("id %d at position %d outside [0, %d)", id, i, V)
		}
	}
	if overlap(table, ids) {
		return invalid("the table overlaps ids (the table must not share memory with an input)")
	}
	rows := slices.Compact(slices.Sorted(slices.Values(ids)))
	for _, r := range rows {
		row := table[int(r)*D : (int(r)+1)*D]
		norm := float64(float32(pNorm(row, p)))
		if norm > maxNorm {
			Scale(row, float32(maxNorm/(norm+RenormEps)))
		}
	}
	return nil
}

// pNorm is the p-norm of x in float64.
func pNorm(x []float32, p float64) float64 {
	switch {
	case p == 2:
		return math.Sqrt(sumSquares(x))
	case math.IsInf(p, 1):
		return maxAbs(x)
	case p == 1:
		var s float64
		for _, v := range x {
			s += math.Abs(float64(v))
		}
		return s
	}
	var s float64
	for _, v := range x {
		s += math.Pow(math.Abs(float64(v)), p)
	}
	return math.Pow(s, 1/p)
}

package gradnorm

// Impl is an implementation of the norms and clipping of this package, the
// interface the checks in gradcheck and property take (NormChecks) and the
// benchmarks compare: Serial is this package's functions, impl/normpar a
// parallel one. Every method has the semantics, validation and error rules
// of the package function of the same name (RowNorms, TotalNorm,
// ClipGradNorm): in particular it validates every input before its first
// write, leaves its outputs unchanged on error, refuses uncoalesced sparse
// gradients and gradients sharing memory, and reports NaN and ±Inf rather
// than hiding them.
//
// The error model, against reference.RowNorms64 and reference.TotalNorm64
// (float64 sums of the exact squares): a norm over n elements is within
// relative n·2⁻⁵² of the reference, the p = ∞ norm exact; clipping
// multiplies each element by float32(ClipCoef(maxNorm, total)) of the total
// it returns, one float32 rounding, and is a bit-for-bit no-op when that
// coefficient is 1.
type Impl interface {
	Name() string
	RowNorms(dst []float64, g Grad) error
	TotalNorm(grads []Grad, p float64) (float64, error)
	ClipGradNorm(grads []Grad, maxNorm, p float64, errorIfNonfinite bool) (float64, error)
}

// Serial is the Impl of the package functions, on the calling goroutine.
type Serial struct{}

func (Serial) Name() string                                       { return "serial" }
func (Serial) RowNorms(dst []float64, g Grad) error               { return RowNorms(dst, g) }
func (Serial) TotalNorm(grads []Grad, p float64) (float64, error) { return TotalNorm(grads, p) }
func (Serial) ClipGradNorm(grads []Grad, maxNorm, p float64, errorIfNonfinite bool) (float64, error) {
	return ClipGradNorm(grads, maxNorm, p, errorIfNonfinite)
}

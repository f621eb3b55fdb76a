package embgrad

import "fmt"

// The 16-bit forms: gradOut arrives as bfloat16 or float16 bit patterns
// (package half has the types and conversions) and the gradient is written
// either into a float32 dst (HalfKernel: a float32 master gradient) or into
// a 16-bit dst of the same format (Half16Kernel).
//
// HalfKernel.BackwardHalf implements the Kernel loop on the exactly widened
// gradOut: every 16-bit value is a float32 value, so
//
//	g := widen(gradOut) // exact
//	(the Kernel loop on dst, g)
//
// Half16Kernel.BackwardHalf16 accumulates each row in float32 and rounds
// once, when the row is stored. A 16-bit dst that already holds a value is
// widened (exactly), the row's terms are added to it in float32, and the sum
// is rounded once to 16 bits: there is no intermediate 16-bit rounding, so
// the error is one final rounding beyond the float32 summation bound:
//
//	for each row v named by at least one contributing id {
//		for j := 0; j < D; j++ {
//			acc := widen(dst[v*D+j])
//			for i where ids[i] == v and !opt.Skips(v) {
//				acc += float32(s * widen(gradOut[i*D+j])) // s as in the Kernel loop
//			}
//			dst[v*D+j] = round(acc, opt.Rounding, index v*D+j)
//		}
//	}
//
// Rows no contributing id names stay bit-for-bit as they were (a padding
// row too). NaN narrows to a quiet NaN, never to Inf; a finite sum beyond
// the format's range becomes ±Inf as IEEE rounding does; subnormal results
// are kept (never flushed to zero).
//
// The Kernel rules hold otherwise: validation (ValidateHalf,
// ValidateHalf16) before the first write, dst unchanged on error, ids and
// gradOut read-only, NaN and ±Inf propagate, safe for concurrent use on
// distinct dst buffers, deterministic (stochastic rounding included: its
// random bits depend on the seed and the element index only).

// Format is a 16-bit floating-point format.
type Format uint8

const (
	// BFloat16 is bfloat16: float32's upper half (8 exponent, 7 fraction bits).
	BFloat16 Format = iota + 1
	// Float16 is IEEE 754 binary16 (5 exponent, 10 fraction bits).
	Float16
)

func (f Format) String() string {
	switch f {
	case BFloat16:
		return "bf16"
	case Float16:
		return "f16"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Rounding is how a 16-bit dst's float32 row sums are rounded to 16 bits.
type Rounding uint8

const (
	// NearestEven rounds to nearest, ties to even (the zero value).
	NearestEven Rounding = iota
	// Stochastic rounds up in magnitude with probability equal to the
	// fractional position between the two neighbouring 16-bit values
	// (half.BFloat16Stochastic, half.Float16Stochastic), drawing element
	// k = row·D + col's bits as half.StochasticBits(Seed, k). The same seed
	// gives the same bits whatever the kernel's order of work; a training
	// loop passes a new seed each step.
	Stochastic
)

func (r Rounding) String() string {
	switch r {
	case NearestEven:
		return "rne"
	case Stochastic:
		return "stochastic"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// HalfOptions are a 16-bit call's options: Options (padding, scaling) with
// the same meaning, the format of gradOut (and of a 16-bit dst), and the
// rounding of a 16-bit dst. Format has no default: the zero Format is
// invalid, so a caller cannot silently read bfloat16 as float16.
type HalfOptions struct {
	Options
	Format Format
	// Rounding applies to a 16-bit dst. A float32 dst has no 16-bit
	// rounding: ValidateHalf rejects Stochastic rather than ignore it.
	Rounding Rounding
	// Seed seeds Stochastic rounding; ignored for NearestEven.
	Seed uint64
}

// HalfKernel computes the embedding backward of a 16-bit gradOut into a
// float32 dst; see "The 16-bit forms" above.
type HalfKernel interface {
	Name() string
	// BackwardHalf adds the gradient of gradOut (len(ids)×D, opt.Format
	// bit patterns) into dst (V×D float32). On error dst is unchanged.
	BackwardHalf(dst []float32, V, D int, ids []int32, gradOut []uint16, opt HalfOptions) error
}

// Half16Kernel computes the embedding backward of a 16-bit gradOut into a
// 16-bit dst of the same format, accumulating each row in float32 and
// rounding once; see "The 16-bit forms" above.
type Half16Kernel interface {
	Name() string
	// BackwardHalf16 adds the gradient of gradOut (len(ids)×D) into dst
	// (V×D), both opt.Format bit patterns. On error dst is unchanged.
	BackwardHalf16(dst []uint16, V, D int, ids []int32, gradOut []uint16, opt HalfOptions) error
}

// ValidateHalf checks a BackwardHalf call's inputs with Validate's rules
// (lengths, ids, padding, MaxV, dst sharing no memory with an input) and
// the 16-bit options: a known Format and NearestEven rounding.
func ValidateHalf(dst []float32, V, D int, ids []int32, gradOut []uint16, opt HalfOptions) error {
	if err := halfOptions(opt, false); err != nil {
		return err
	}
	if err := halfShape(len(dst), V, D, ids, len(gradOut)); err != nil {
		return err
	}
	if overlap(dst, gradOut) {
		return invalid("dst overlaps gradOut (dst must not share memory with an input)")
	}
	if overlap(dst, ids) {
		return invalid("dst overlaps ids (dst must not share memory with an input)")
	}
	return sparseIDs(V, ids, opt.Options)
}

// ValidateHalf16 is ValidateHalf for a 16-bit dst; any known Rounding is
// accepted.
func ValidateHalf16(dst []uint16, V, D int, ids []int32, gradOut []uint16, opt HalfOptions) error {
	if err := halfOptions(opt, true); err != nil {
		return err
	}
	if err := halfShape(len(dst), V, D, ids, len(gradOut)); err != nil {
		return err
	}
	if overlap(dst, gradOut) {
		return invalid("dst overlaps gradOut (dst must not share memory with an input)")
	}
	if overlap(dst, ids) {
		return invalid("dst overlaps ids (dst must not share memory with an input)")
	}
	return sparseIDs(V, ids, opt.Options)
}

func halfOptions(opt HalfOptions, dst16 bool) error {
	if opt.Format != BFloat16 && opt.Format != Float16 {
		return invalid("format %v is neither BFloat16 nor Float16", opt.Format)
	}
	switch {
	case opt.Rounding == NearestEven:
	case opt.Rounding == Stochastic && dst16:
	case opt.Rounding == Stochastic:
		return invalid("stochastic rounding needs a 16-bit dst (a float32 dst has no 16-bit rounding)")
	default:
		return invalid("rounding %v is neither NearestEven nor Stochastic", opt.Rounding)
	}
	return nil
}

func halfShape(ndst, V, D int, ids []int32, ngrad int) error {
	vd, err := product("V", V, "D", D)
	if err != nil {
		return err
	}
	if V > MaxV {
		return invalid("V = %d is above MaxV = %d (ids are int32)", V, MaxV)
	}
	if ndst != vd {
		return &LengthError{"dst", ndst, vd, fmt.Sprintf("V*D = %d*%d", V, D)}
	}
	nd, err := product("len(ids)", len(ids), "D", D)
	if err != nil {
		return err
	}
	if ngrad != nd {
		return &LengthError{"gradOut", ngrad, nd, fmt.Sprintf("len(ids)*D = %d*%d", len(ids), D)}
	}
	return nil
}

package embgrad

import "fmt"

// TiedArgs are the inputs of a tied backward call: the embedding table E
// (V×D) is both the input lookup Y = E[ids] and the output projection
// Z = H·Eᵀ, so its gradient has an input part (the Kernel loop on IDs and
// GradOut) and an output part dZᵀ·H.
type TiedArgs struct {
	V, D int

	// The input part, exactly as for Kernel.Backward.
	IDs     []int32
	GradOut []float32 // len(IDs)×D
	Opt     Options   // padding and scaling apply to the input part only

	// The output part: T positions whose hidden states H met Eᵀ.
	T  int
	H  []float32 // T×D
	DZ []float32 // T×V, ∂L/∂Z
}

// TiedKernel computes the tied-embedding backward pass, adding both parts
// into dst (V×D):
//
//	Kernel.Backward(dst, V, D, IDs, GradOut, Opt) // input part
//	for t := 0; t < T; t++ {                      // output part: dst += dZᵀ·H
//		for v := 0; v < V; v++ {
//			for j := 0; j < D; j++ {
//				dst[v*D+j] += DZ[t*V+v] * H[t*D+j]
//			}
//		}
//	}
//
// The Kernel rules hold, with H and DZ read-only like IDs and GradOut
// (validate with ValidateTied; NaN and ±Inf in H and DZ propagate). The
// output part touches every row, the padding row included, as with PyTorch's
// tied weights, where padding_idx masks only the lookup's gradient; so with
// T = 0 rows no id names stay bit-for-bit unchanged, and otherwise every
// element may differ from the loop above by the rounding of some order of
// summing its terms (reference.TiedOracle states the bound).
type TiedKernel interface {
	// Name is a short identifier, used in benchmark names (impl=<Name>).
	Name() string
	// BackwardTied adds the input and output parts into dst. On error dst is
	// unchanged.
	BackwardTied(dst []float32, a TiedArgs) error
}

// TiedParallel is implemented by tied kernels with a configurable number of
// workers (n ≥ 1); suites check that results are bitwise identical for
// every worker count.
type TiedParallel interface {
	WithTiedWorkers(n int) TiedKernel
}

// ValidateTied checks a BackwardTied call's inputs with Validate's rules
// (dst sharing memory with H or dZ included) and returns the first problem,
// or nil.
func ValidateTied(dst []float32, a TiedArgs) error {
	if err := Validate(dst, a.V, a.D, a.IDs, a.GradOut, a.Opt); err != nil {
		return err
	}
	td, err := product("T", a.T, "D", a.D)
	if err != nil {
		return err
	}
	if len(a.H) != td {
		return &LengthError{"H", len(a.H), td, fmt.Sprintf("T*D = %d*%d", a.T, a.D)}
	}
	tv, err := product("T", a.T, "V", a.V)
	if err != nil {
		return err
	}
	if len(a.DZ) != tv {
		return &LengthError{"dZ", len(a.DZ), tv, fmt.Sprintf("T*V = %d*%d", a.T, a.V)}
	}
	if err := disjoint(dst, "H", a.H); err != nil {
		return err
	}
	return disjoint(dst, "dZ", a.DZ)
}

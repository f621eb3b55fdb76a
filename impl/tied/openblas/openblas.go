//go:build blas

// Package openblas is the tied kernel with its output part on OpenBLAS,
// built only with the blas build tag: gonum's blas32 is routed by
// blas32.Use to gonum.org/v1/netlib's cgo binding, linked with -lopenblas.
// Install the library first; on Debian:
//
//	apt-get install -y libopenblas-dev
//	go test -tags blas ./impl/tied/openblas
package openblas

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/simd"
)

func init() { blas32.Use(netlib.Implementation{}) }

// Kernel is the tied kernel with its output part on blas32.Gemm, routed to
// OpenBLAS. OpenBLAS picks its own threads
// (OPENBLAS_NUM_THREADS); its sgemm splits the output, not the sum over t,
// so results do not depend on them. The zero value is ready to use.
type Kernel struct {
	// Input computes the input part; nil means simd.Kernel{}.
	Input embgrad.Kernel
}

var _ embgrad.TiedKernel = Kernel{}

// Name returns "tied-openblas".
func (Kernel) Name() string { return "tied-openblas" }

// BackwardTied implements embgrad.TiedKernel.
func (k Kernel) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	if err := embgrad.ValidateTied(dst, a); err != nil {
		return err
	}
	in := k.Input
	if in == nil {
		in = simd.Kernel{}
	}
	if err := in.Backward(dst, a.V, a.D, a.IDs, a.GradOut, a.Opt); err != nil {
		return err
	}
	if a.V == 0 || a.D == 0 || a.T == 0 {
		return nil // BLAS wants leading dimensions ≥ 1
	}
	dZ := blas32.General{Rows: a.T, Cols: a.V, Stride: a.V, Data: a.DZ}
	H := blas32.General{Rows: a.T, Cols: a.D, Stride: a.D, Data: a.H}
	C := blas32.General{Rows: a.V, Cols: a.D, Stride: a.D, Data: dst}
	blas32.Gemm(blas.Trans, blas.NoTrans, 1, dZ, H, 1, C)
	return nil
}

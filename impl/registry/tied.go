package registry

import (
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/tied"
)

// tiedKernels are the built-in tied kernels; tied_blas.go adds the OpenBLAS
// one under the blas build tag.
var tiedKernels = []embgrad.TiedKernel{
	tied.Kernel{},
}

// Tied returns every built-in tied-embedding kernel.
func Tied() []embgrad.TiedKernel { return slices.Clone(tiedKernels) }

package registry

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/sparse"
	"github.com/embgrad/embgrad/impl/sparsesharded"
)

// Sparse returns every built-in sparse-gradient kernel.
func Sparse() []embgrad.SparseKernel {
	return []embgrad.SparseKernel{
		sparse.Kernel{},
		sparsesharded.Kernel{},
	}
}

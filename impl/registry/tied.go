package registry

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/tied"
)

// Tied returns every built-in tied-embedding kernel.
func Tied() []embgrad.TiedKernel {
	return []embgrad.TiedKernel{
		tied.Kernel{},
	}
}

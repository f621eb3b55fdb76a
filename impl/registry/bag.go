package registry

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/bagloop"
	"github.com/embgrad/embgrad/impl/bagsharded"
)

// Bag returns every built-in embedding-bag kernel, baseline first.
func Bag() []embgrad.BagKernel {
	return []embgrad.BagKernel{
		bagloop.Kernel{},
		bagsharded.Kernel{},
	}
}

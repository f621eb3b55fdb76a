package registry

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/half16loop"
	"github.com/embgrad/embgrad/impl/half16simd"
)

// HalfKernel is a kernel of both 16-bit forms (a float32 and a 16-bit dst).
type HalfKernel interface {
	embgrad.HalfKernel
	embgrad.Half16Kernel
}

// Half returns every built-in 16-bit kernel, baseline first.
func Half() []HalfKernel {
	return []HalfKernel{
		half16loop.Kernel{},
		half16simd.Kernel{},
	}
}

// Package registry lists embgrad's built-in kernels. The CLI, the benchmarks
// and the fuzz target enumerate kernels only through it, so a new kernel is
// one line here and nowhere else.
package registry

import (
	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/impl/sharded"
	"github.com/embgrad/embgrad/impl/simd"
	"github.com/embgrad/embgrad/impl/sorted"
)

// Kernels returns every built-in kernel, baseline first.
func Kernels() []embgrad.Kernel {
	return []embgrad.Kernel{
		loop.Kernel{},
		scatter.Kernel{},
		simd.Kernel{},
		sorted.Kernel{},
		sharded.Kernel{},
	}
}

// Lookup returns the built-in kernel with the given name.
func Lookup(name string) (embgrad.Kernel, bool) {
	for _, k := range Kernels() {
		if k.Name() == name {
			return k, true
		}
	}
	return nil, false
}

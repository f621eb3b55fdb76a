//go:build blas

package registry

import "github.com/embgrad/embgrad/impl/tied/openblas"

func init() { tiedKernels = append(tiedKernels, openblas.Kernel{}) }

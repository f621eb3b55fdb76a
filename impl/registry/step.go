package registry

import (
	"github.com/embgrad/embgrad/impl/fused"
	"github.com/embgrad/embgrad/impl/step"
	"github.com/embgrad/embgrad/optim"
)

// Steppers returns every built-in optimizer step from a sparse gradient,
// serial first.
func Steppers() []optim.Stepper {
	return []optim.Stepper{
		step.Kernel{}.WithWorkers(1),
		step.Kernel{},
	}
}

// FusedSteps returns every built-in fused backward-and-step kernel, serial
// first.
func FusedSteps() []optim.Fused {
	return []optim.Fused{
		fused.Kernel{}.WithWorkers(1),
		fused.Kernel{},
	}
}

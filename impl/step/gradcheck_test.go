package step_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/step"
)

func TestGradcheck(t *testing.T)       { gradcheck.TestStep(t, step.Kernel{}) }
func TestGradcheckSerial(t *testing.T) { gradcheck.TestStep(t, step.Kernel{}.WithWorkers(1)) }

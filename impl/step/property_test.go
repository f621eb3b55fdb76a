package step_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/step"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T)       { property.TestStep(t, step.Kernel{}) }
func TestPropertySerial(t *testing.T) { property.TestStep(t, step.Kernel{}.WithWorkers(1)) }

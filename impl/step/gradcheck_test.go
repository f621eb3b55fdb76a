package step_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/step"
)

func TestGradcheck(t *testing.T) { gradcheck.TestStep(t, step.Kernel{}) }

// The serial path differs from the parallel one only in not starting a
// team; -short cases cover it.
func TestGradcheckSerial(t *testing.T) {
	if err := gradcheck.CheckStep(step.Kernel{}.WithWorkers(1), gradcheck.Config{Short: true}); err != nil {
		t.Error(err)
	}
}

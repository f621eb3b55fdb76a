package half16loop_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/half16loop"
)

func TestGradcheckHalf(t *testing.T) { gradcheck.TestHalf(t, half16loop.Kernel{}) }

func TestGradcheckHalf16(t *testing.T) { gradcheck.TestHalf16(t, half16loop.Kernel{}) }

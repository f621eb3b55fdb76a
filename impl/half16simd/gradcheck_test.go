package half16simd_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/half16simd"
)

func TestGradcheckHalf(t *testing.T) { gradcheck.TestHalf(t, half16simd.Kernel{}) }

func TestGradcheckHalf16(t *testing.T) { gradcheck.TestHalf16(t, half16simd.Kernel{}) }

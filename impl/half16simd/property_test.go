package half16simd_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/half16simd"
	"github.com/embgrad/embgrad/property"
)

func TestPropertyHalf(t *testing.T) { property.TestHalf(t, half16simd.Kernel{}) }

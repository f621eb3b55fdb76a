package half16loop_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/half16loop"
	"github.com/embgrad/embgrad/property"
)

func TestPropertyHalf(t *testing.T) { property.TestHalf(t, half16loop.Kernel{}) }

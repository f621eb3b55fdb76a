package tied_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/tied"
	"github.com/embgrad/embgrad/property"
)

func TestGradcheck(t *testing.T) { gradcheck.TestTied(t, tied.Kernel{}) }

func TestProperty(t *testing.T) { property.TestTied(t, tied.Kernel{}) }

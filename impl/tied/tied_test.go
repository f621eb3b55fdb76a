package tied_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/tied"
)

func TestGradcheck(t *testing.T) { gradcheck.TestTied(t, tied.Kernel{}) }

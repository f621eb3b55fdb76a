package scatter_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/scatter"
)

func TestGradcheck(t *testing.T) { gradcheck.Test(t, scatter.Kernel{}) }

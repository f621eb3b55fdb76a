package sparsesharded_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/sparsesharded"
)

func TestGradcheck(t *testing.T) { gradcheck.TestSparse(t, sparsesharded.Kernel{}) }

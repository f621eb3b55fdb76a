package sparse_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/sparse"
)

func TestGradcheck(t *testing.T) { gradcheck.TestSparse(t, sparse.Kernel{}) }

package sparse_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/sparse"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.TestSparse(t, sparse.Kernel{}) }

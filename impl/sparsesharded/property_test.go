package sparsesharded_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/sparsesharded"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.TestSparse(t, sparsesharded.Kernel{}) }

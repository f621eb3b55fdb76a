//go:build blas

package openblas_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/tied/openblas"
	"github.com/embgrad/embgrad/property"
)

func TestGradcheck(t *testing.T) { gradcheck.TestTied(t, openblas.Kernel{}) }

func TestProperty(t *testing.T) { property.TestTied(t, openblas.Kernel{}) }

package simd_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/simd"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.Test(t, simd.Kernel{}) }

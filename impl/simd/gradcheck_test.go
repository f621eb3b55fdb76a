package simd_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/simd"
)

func TestGradcheck(t *testing.T) { gradcheck.Test(t, simd.Kernel{}) }

package fused

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/property"
)

// The suites' cases are small; always sends them down the parallel path.
func TestParallelPath(t *testing.T) {
	k := Kernel{always: true}
	gradcheck.TestFused(t, k)
	property.TestFused(t, k)
}

package fused

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/property"
)

// The suites' cases are small; always sends them down the parallel path.
func TestParallelPath(t *testing.T) {
	k := Kernel{always: true}
	cfg := gradcheck.Config{Short: true} // the full suites run on Kernel{} in the external tests
	if err := gradcheck.CheckFused(k, cfg); err != nil {
		t.Error(err)
	}
	if err := property.CheckFused(k, cfg); err != nil {
		t.Error(err)
	}
}

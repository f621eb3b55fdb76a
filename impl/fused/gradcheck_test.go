package fused_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/fused"
)

func TestGradcheck(t *testing.T) { gradcheck.TestFused(t, fused.Kernel{}) }

// The serial path differs from the parallel one only in not starting a
// team; -short cases cover it.
func TestGradcheckSerial(t *testing.T) {
	if err := gradcheck.CheckFused(fused.Kernel{}.WithWorkers(1), gradcheck.Config{Short: true}); err != nil {
		t.Error(err)
	}
}

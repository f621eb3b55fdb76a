package fused_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/fused"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.TestFused(t, fused.Kernel{}) }

// The serial path differs from the parallel one only in not starting a
// team; -short cases cover it.
func TestPropertySerial(t *testing.T) {
	if err := property.CheckFused(fused.Kernel{}.WithWorkers(1), property.Config{Short: true}); err != nil {
		t.Error(err)
	}
}

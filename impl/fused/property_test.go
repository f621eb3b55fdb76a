package fused_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/fused"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T)       { property.TestFused(t, fused.Kernel{}) }
func TestPropertySerial(t *testing.T) { property.TestFused(t, fused.Kernel{}.WithWorkers(1)) }

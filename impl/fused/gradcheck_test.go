package fused_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/fused"
)

func TestGradcheck(t *testing.T)       { gradcheck.TestFused(t, fused.Kernel{}) }
func TestGradcheckSerial(t *testing.T) { gradcheck.TestFused(t, fused.Kernel{}.WithWorkers(1)) }

package sharded_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/sharded"
)

func TestGradcheck(t *testing.T) { gradcheck.Test(t, sharded.Kernel{}) }

package loop_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/loop"
)

func TestGradcheck(t *testing.T) { gradcheck.Test(t, loop.Kernel{}) }

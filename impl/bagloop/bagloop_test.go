package bagloop_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/bagloop"
)

func TestGradcheck(t *testing.T) { gradcheck.TestBag(t, bagloop.Kernel{}) }

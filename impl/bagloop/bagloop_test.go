package bagloop_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/bagloop"
	"github.com/embgrad/embgrad/property"
)

func TestGradcheck(t *testing.T) { gradcheck.TestBag(t, bagloop.Kernel{}) }

func TestProperty(t *testing.T) { property.TestBag(t, bagloop.Kernel{}) }

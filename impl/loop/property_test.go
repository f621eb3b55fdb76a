package loop_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.Test(t, loop.Kernel{}) }

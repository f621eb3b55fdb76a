package sharded_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/sharded"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.Test(t, sharded.Kernel{}) }

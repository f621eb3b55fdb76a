package scatter_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.Test(t, scatter.Kernel{}) }

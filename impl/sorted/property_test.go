package sorted_test

import (
	"testing"

	"github.com/embgrad/embgrad/impl/sorted"
	"github.com/embgrad/embgrad/property"
)

func TestProperty(t *testing.T) { property.Test(t, sorted.Kernel{}) }

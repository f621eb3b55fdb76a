package sorted_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/sorted"
)

func TestGradcheck(t *testing.T) { gradcheck.Test(t, sorted.Kernel{}) }

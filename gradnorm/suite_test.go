package gradnorm_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/property"
)

func TestGradcheck(t *testing.T) { gradcheck.TestNorm(t, gradnorm.Serial{}) }
func TestProperty(t *testing.T)  { property.TestNorm(t, gradnorm.Serial{}) }

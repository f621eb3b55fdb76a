package registry

import (
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/normpar"
)

// Norms returns every built-in implementation of gradient norms and
// clipping, serial first.
func Norms() []gradnorm.Impl {
	return []gradnorm.Impl{
		gradnorm.Serial{},
		normpar.Impl{},
	}
}

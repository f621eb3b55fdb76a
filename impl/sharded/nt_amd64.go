//go:build !purego

package sharded

import (
	"golang.org/x/sys/cpu"

	"github.com/embgrad/embgrad/impl/internal/vec"
)

//go:generate sh ../../_asm/generate.sh

// haveNT: the non-temporal assembly runs (AVX2, and not forced off by
// EMBGRAD_PUREGO like the rest of the assembly).
var haveNT = cpu.X86.HasAVX2 && !vec.PureGo

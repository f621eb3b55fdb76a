package tied

import "github.com/embgrad/embgrad/impl/internal/vec"

// A tileKernel is an assembly micro-kernel adding an mr×nr tile of dZᵀ·H
// into dst, summing its k terms by FMA (see tileAVX512).
type tileKernel struct {
	name   string
	ok     bool // the CPU has what it needs
	mr, nr int
	fn     func(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k int)
}

// bestTile is the first usable entry of tiles (fastest first), or nil —
// with the purego build tag, off amd64, on CPUs without AVX2 and FMA, or
// when EMBGRAD_PUREGO turns the assembly off (vec.PureGo) — when the output
// part runs on vec.AddScaled alone.
var bestTile = chooseTile(tiles, vec.PureGo)

func chooseTile(tiles []tileKernel, purego bool) *tileKernel {
	for i := range tiles {
		if tiles[i].ok && !purego {
			return &tiles[i]
		}
	}
	return nil
}

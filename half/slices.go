package half

import "math"

// The slice forms take []uint16 so that kernels can hold gradients in plain buffers. Each panics
// if len(dst) != len(src): that is a caller's bug, not user input.

func checkLen(nd, ns int) {
	if nd != ns {
		panic("half: len(dst) != len(src)")
	}
}

// WidenBFloat16 sets dst[i] to the bfloat16 src[i] as a float32, exactly.
func WidenBFloat16(dst []float32, src []uint16) {
	checkLen(len(dst), len(src))
	for i, h := range src {
		dst[i] = math.Float32frombits(uint32(h) << 16)
	}
}

// WidenFloat16 sets dst[i] to the float16 src[i] as a float32, exactly.
func WidenFloat16(dst []float32, src []uint16) {
	checkLen(len(dst), len(src))
	for i, h := range src {
		dst[i] = math.Float32frombits(f16Widen(h))
	}
}

// NarrowBFloat16 sets dst[i] to src[i] rounded to the nearest bfloat16, ties to even.
func NarrowBFloat16(dst []uint16, src []float32) {
	checkLen(len(dst), len(src))
	for i, f := range src {
		dst[i] = bf16Nearest(math.Float32bits(f))
	}
}

// NarrowFloat16 sets dst[i] to src[i] rounded to the nearest float16, ties to even.
func NarrowFloat16(dst []uint16, src []float32) {
	checkLen(len(dst), len(src))
	for i, f := range src {
		dst[i] = f16Nearest(math.Float32bits(f))
	}
}

// NarrowBFloat16Stochastic sets dst[i] to BFloat16Stochastic(src[i], StochasticBits(seed, first+i)):
// first is the stream index of src[0], so a slice split into chunks rounds as the whole does.
func NarrowBFloat16Stochastic(dst []uint16, src []float32, seed, first uint64) {
	checkLen(len(dst), len(src))
	for i, f := range src {
		dst[i] = uint16(BFloat16Stochastic(f, StochasticBits(seed, first+uint64(i))))
	}
}

// NarrowFloat16Stochastic sets dst[i] to Float16Stochastic(src[i], StochasticBits(seed, first+i)).
func NarrowFloat16Stochastic(dst []uint16, src []float32, seed, first uint64) {
	checkLen(len(dst), len(src))
	for i, f := range src {
		dst[i] = uint16(Float16Stochastic(f, StochasticBits(seed, first+uint64(i))))
	}
}

// Package vec holds the row primitives of the embedding kernels: adding one
// gradient row, optionally scaled, into one row of the table's gradient,
// and the element-wise loops of the optimizer step (update.go: SubScaled,
// SGDDecay, ScaleSub, Adam).
//
// Every function has a pure-Go reference version (addGeneric,
// addScaledGeneric, ...), always compiled. On amd64 with AVX-512 or AVX2 the
// exported functions run generated assembly instead (see _asm/ at the
// repository root); its results are bit-for-bit those of the reference
// loops, which the tests check for every length 1..130 and unaligned
// starts. NaN payloads are the one exception: Go leaves them unspecified,
// and the compiler may swap an add's operands (it does under -race), so the
// tests only require a NaN where the reference has one. The pure-Go path is
// forced by the purego build tag, or at run time by EMBGRAD_PUREGO (see
// PureGo).
//
// It sits under impl/internal because only kernels use it: Go's internal
// rule then keeps the suites, the benchmarks and the CLI, which must judge
// kernels without depending on their parts, from importing it.
package vec

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// Add adds src into dst element by element:
//
//	for i := range dst {
//		dst[i] += src[i]
//	}
//
// dst and src must have the same length; Add panics otherwise.
func Add(dst, src []float32) {
	if len(dst) != len(src) {
		panic("vec: Add: length mismatch")
	}
	active.add(dst, src)
}

// AddScaled adds s times src into dst element by element:
//
//	for i := range dst {
//		dst[i] += float32(s * src[i])
//	}
//
// The product is rounded to float32 before the add: the conversion forbids
// the compiler to fuse the multiply and add (it may on arm64, ppc64, s390x),
// and the assembly uses a separate multiply and add, not FMA, whose single
// rounding would give different bits. So the result never depends on the
// architecture or the path taken. dst and src must have the same length;
// AddScaled panics otherwise.
func AddScaled(dst, src []float32, s float32) {
	if len(dst) != len(src) {
		panic("vec: AddScaled: length mismatch")
	}
	active.addScaled(dst, src, s)
}

// Prefetch asks the CPU to start loading every cache line of s, so that a
// kernel can fetch the next rows it will add while it adds the current ones.
// It is only a hint: it changes no memory, never faults, and on the pure-Go
// path does nothing.
//
// It pays where the rows a loop reads are scattered, so that the hardware
// prefetchers, which follow sequential streams within a page, cannot guess
// them: the rows of the table's gradient named by the ids, and a worker's
// share of the upstream gradient rows in impl/sharded.
func Prefetch(s []float32) {
	active.prefetch(s)
}

// impl is one implementation of the primitives.
type impl struct {
	name      string
	ok        bool // the CPU (and OS) support it
	add       func(dst, src []float32)
	addScaled func(dst, src []float32, s float32)
	prefetch  func(s []float32)
	// the optimizer-update primitives of update.go
	subScaled func(dst, src []float32, s float32)
	sgdDecay  func(w, g []float32, lr, wd float32)
	scaleSub  func(w, g []float32, c, m float32)
	adam      func(w, m1, m2, g []float32, ss, oma, omb, eps float32)
}

// generic is the pure-Go implementation, the last entry of impls on every
// platform. The tests compare every supported entry of impls with it.
var generic = impl{"generic", true, addGeneric, addScaledGeneric, func([]float32) {},
	subScaledGeneric, sgdDecayGeneric, scaleSubGeneric, adamGeneric}

// PureGo reports whether the environment variable EMBGRAD_PUREGO, read once
// at program start, turns the assembly off: for this package and for every
// kernel with assembly of its own. It takes strconv.ParseBool's spellings
// (1, t, true, TRUE, 0, f, false, ...); any other value warns on stderr and
// keeps the assembly.
var PureGo = pureGoFromEnv(os.Getenv("EMBGRAD_PUREGO"), os.Stderr)

func pureGoFromEnv(v string, w io.Writer) bool {
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		fmt.Fprintf(w, "embgrad: EMBGRAD_PUREGO=%q is not a boolean such as 1, true, 0 or false; using the assembly\n", v)
		return false
	}
	return b
}

// active is the implementation in use: the first supported entry of impls
// (fastest first), or generic when PureGo.
var active = choose(impls, PureGo)

func choose(impls []impl, purego bool) impl {
	for _, m := range impls {
		if m.ok && !purego {
			return m
		}
	}
	return generic
}

// addGeneric is the reference loop of Add; dst and src have equal lengths.
func addGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] += x
	}
}

// addScaledGeneric is the reference loop of AddScaled; dst and src have equal
// lengths.
func addScaledGeneric(dst, src []float32, s float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] += float32(s * x)
	}
}

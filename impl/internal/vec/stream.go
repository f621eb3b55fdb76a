package vec

import "unsafe"

// ClearStream sets s to +0 as clear does, but writes the 32-byte aligned
// middle of s with non-temporal stores where the CPU has them (AVX2, and
// not PureGo): a plain store first reads the line it writes, so clearing a
// table much larger than the caches moves twice its size, and evicts what
// the caches held. A caller that clears with ClearStream must call Fence
// before it hands the memory to another goroutine (non-temporal stores are
// weakly ordered); team.Run's completion comes after the Fence then.
//
// The bits written are those of clear; only the traffic differs.
func ClearStream(s []float32) {
	if !haveNT || len(s) < 64 {
		clear(s)
		return
	}
	head := int((32-uintptr(unsafe.Pointer(&s[0]))&31)&31) / 4
	body := (len(s) - head) &^ 7
	clear(s[:head])
	clearNTAVX2(s[head : head+body])
	clear(s[head+body:])
}

// Fence orders the non-temporal stores made so far (ClearStream) before
// every later store of the calling goroutine; it does nothing where
// ClearStream uses plain stores.
func Fence() {
	if haveNT {
		sfence()
	}
}

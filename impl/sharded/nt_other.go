//go:build !amd64 || purego

package sharded

const haveNT = false

func storeNTAVX2(dst, src []float32) { copy(dst, src) }
func clearNTAVX2(dst []float32)      { clear(dst) }
func sfence()                        {}

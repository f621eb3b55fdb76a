//go:build !amd64 || purego

package vec

var impls = []impl{generic}

const haveNT = false

func clearNTAVX2(dst []float32) { clear(dst) }
func sfence()                   {}

//go:build !amd64 || purego

package half16

var impls = []impl{generic}

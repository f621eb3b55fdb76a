//go:build !amd64 || purego

package vec

var impls = []impl{generic}

//go:build !amd64 || purego

package peak

func loops() []Loop { return nil }

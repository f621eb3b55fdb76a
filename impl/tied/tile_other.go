//go:build !amd64 || purego

package tied

var tiles []tileKernel

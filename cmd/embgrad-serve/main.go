// Command embgrad-serve is the reference kernel process of the extkernel
// protocol, in Go: it serves a built-in kernel (or a broken one of
// internal/broken, for the self-tests) on stdin and stdout, so that
//
//	embgrad verify -exec 'embgrad-serve -kernel sorted'
//
// runs the suites across a process boundary. -list names the kernels;
// -fault makes it misbehave on purpose (hang, exit, noise, short,
// wrong-len, slow).
package main

import (
	"os"

	"github.com/embgrad/embgrad/internal/extserve"
)

func main() { os.Exit(extserve.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// Command noflag imports both suites in a program that is not a test and
// reports whether -embgrad.seed was registered on its command line.
package main

import (
	"flag"
	"fmt"

	_ "github.com/embgrad/embgrad/gradcheck"
	_ "github.com/embgrad/embgrad/property"
)

func main() { fmt.Println("embgrad.seed registered:", flag.Lookup("embgrad.seed") != nil) }

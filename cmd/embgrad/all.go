package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/embgrad/embgrad/cmd/embgrad/internal/benchrun"
	"github.com/embgrad/embgrad/internal/suite"
)

func init() {
	commands["all"] = command{"the default: verify, a quick benchmark of the GPT-2 shape, and its report", all}
}

// all is what "go run ./cmd/embgrad" does: prove the kernels correct first
// (a broken kernel's speed is meaningless), then measure them briefly and
// write a report a person can read, in a few minutes on 2 cores.
func all(stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (run a command by name: embgrad help)", fs.Args())
	}
	cfg, err := suite.Config{}.Resolve()
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "[1/2] verifying every built-in kernel")
	if _, failed := verifyAll(stdout, cfg, builtins()); failed > 0 {
		return fmt.Errorf("verify: %d check(s) failed; not benchmarking broken kernels", failed)
	}
	o := benchrun.Quick()
	fmt.Fprintf(stderr, "\n[2/2] quick benchmark (%s) and report; the full matrix is \"embgrad bench\"\n", o.CommandLine())
	path, err := runBench(stdout, stderr, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nresults: %s\n", path)
	return nil
}

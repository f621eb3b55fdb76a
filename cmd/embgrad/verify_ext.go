package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/extkernel"
	"github.com/embgrad/embgrad/internal/suite"
)

// external holds verify's flags for kernels outside this binary.
type external struct {
	exec    listFlag
	lib     listFlag
	timeout *time.Duration
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func externalFlags(fs *flag.FlagSet) *external {
	e := &external{}
	fs.Var(&e.exec, "exec", "verify the kernel served by this command line over the process protocol (repeatable; see extkernel)")
	fs.Var(&e.lib, "lib", "verify the kernel in this shared library through the C ABI of include/embgrad.h (repeatable)")
	e.timeout = fs.Duration("timeout", extkernel.DefaultTimeout, "with -exec: the limit on each call; a kernel that exceeds it is killed")
	return e
}

func (e *external) given() bool { return len(e.exec)+len(e.lib) > 0 }

// verifyExternal runs both suites over the kernels of -exec processes and
// -lib libraries (every form each declares), instead of the built-in ones.
func verifyExternal(stdout, stderr io.Writer, cfg suite.Config, e *external) error {
	var kernels []embgrad.Kernel
	var tied []embgrad.TiedKernel
	var sparse []embgrad.SparseKernel
	for _, line := range e.exec {
		p, err := extkernel.Command(line, extkernel.Config{Timeout: *e.timeout, Stderr: stderr})
		if err != nil {
			return fmt.Errorf("verify: -exec %q: %v", line, err)
		}
		defer p.Close()
		fmt.Fprintf(stdout, "-exec %s: kernel %q, capabilities %s\n", line, p.Name(), capNames(p.Caps()))
		if k := p.Kernel(); k != nil {
			kernels = append(kernels, k)
		}
		if k := p.Tied(); k != nil {
			tied = append(tied, k)
		}
		if k := p.Sparse(); k != nil {
			sparse = append(sparse, k)
		}
	}
	for _, path := range e.lib {
		l, err := openLib(path)
		if err != nil {
			return fmt.Errorf("verify: -lib %s: %v", path, err)
		}
		fmt.Fprintf(stdout, "-lib %s: kernel %q\n", path, l.name)
		if l.dense != nil {
			kernels = append(kernels, l.dense)
		}
		if l.tied != nil {
			tied = append(tied, l.tied)
		}
	}
	if len(kernels)+len(tied)+len(sparse) == 0 {
		return &exitError{2, fmt.Errorf("verify: the external kernels serve no form this embgrad knows")}
	}
	_, failed := verifyAll(stdout, cfg, kernelSet{dense: kernels, tied: tied, sparse: sparse})
	if failed > 0 {
		return fmt.Errorf("verify: %d check(s) failed (seed %d; rerun with -seed %d)", failed, cfg.Seed, cfg.Seed)
	}
	return nil
}

func capNames(c uint64) string {
	var s []string
	for _, n := range []struct {
		bit  uint64
		name string
	}{{extkernel.CapDense, "dense"}, {extkernel.CapScratch, "scratch"}, {extkernel.CapTied, "tied"},
		{extkernel.CapParallel, "parallel"}, {extkernel.CapNondeterministic, "nondeterministic"}, {extkernel.CapSparse, "sparse"}} {
		if c&n.bit != 0 {
			s = append(s, n.name)
		}
	}
	return strings.Join(s, ",")
}

// lib is a loaded C-ABI library's kernels (verify_lib.go).
type lib struct {
	name  string
	dense embgrad.Kernel
	tied  embgrad.TiedKernel
}

// Package extserve is the Go reference kernel process: it serves any built-in
// kernel of impl/registry, and the broken and reordered kernels of
// internal/broken, over the extkernel protocol on stdin and stdout, and can
// misbehave on purpose (hang, exit, print noise, reply short) so that the
// host's handling of each failure is tested. cmd/embgrad-serve is its
// main; tests run it by re-executing their own binary (see Main).
package extserve

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync/atomic"
	"time"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/extkernel"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/broken"
)

// Lookup returns what is served under name: a registry kernel by its name
// (dense, tied, sparse), or "broken/NAME", "broken-tied/NAME",
// "broken-sparse/NAME" and "reordered/…" likewise for the kernels of
// internal/broken. The kernel keeps its own Name, so that failures read
// as they do in process.
func Lookup(name string) (extkernel.Served, error) {
	all := table()
	if s, ok := all[name]; ok {
		return s, nil
	}
	return extkernel.Served{}, fmt.Errorf("no kernel %q; known: %v", name, Names())
}

// Names lists every name Lookup knows, sorted.
func Names() []string {
	var ns []string
	for n := range table() {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func table() map[string]extkernel.Served {
	t := map[string]extkernel.Served{}
	for _, k := range registry.Kernels() {
		t[k.Name()] = extkernel.Served{Name: k.Name(), Kernel: k}
	}
	for _, k := range registry.Tied() {
		s := t[k.Name()]
		s.Name, s.Tied = k.Name(), k
		if d, ok := k.(embgrad.Kernel); ok && s.Kernel == nil {
			s.Kernel = d
		}
		t[k.Name()] = s
	}
	for _, k := range registry.Sparse() {
		s := t[k.Name()]
		s.Name, s.Sparse = k.Name(), k
		t[k.Name()] = s
	}
	for _, k := range broken.FaultySparse() {
		t["broken-sparse/"+k.Name()] = extkernel.Served{Name: k.Name(), Sparse: k}
	}
	for _, k := range broken.ReorderedSparse() {
		t["reordered-sparse/"+k.Name()] = extkernel.Served{Name: k.Name(), Sparse: k}
	}
	for _, k := range broken.Faulty() {
		t["broken/"+k.Name()] = extkernel.Served{Name: k.Name(), Kernel: k}
	}
	for _, k := range broken.Reordered() {
		t["reordered/"+k.Name()] = extkernel.Served{Name: k.Name(), Kernel: k}
	}
	for _, k := range broken.FaultyTied() {
		t["broken-tied/"+k.Name()] = extkernel.Served{Name: k.Name(), Tied: k}
	}
	for _, k := range broken.ReorderedTied() {
		t["reordered-tied/"+k.Name()] = extkernel.Served{Name: k.Name(), Tied: k}
	}
	return t
}

// Faults a served kernel can be told to commit on its Nth call.
var faults = map[string]string{
	"hang":      "never answers",
	"exit":      "exits with status 3",
	"noise":     "prints a line to stdout before its reply",
	"short":     "writes half a reply and exits",
	"wrong-len": "replies with a dst one element short",
	"slow":      "answers after -delay",
}

// Main runs the kernel process with command-line args (see -h) on the
// given streams and returns the exit status.
func Main(args []string, stdin io.Reader, stdout io.Writer, stderr io.Writer) int {
	fs := flag.NewFlagSet("embgrad-serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("kernel", "loop", "the kernel to serve (-list shows them)")
	list := fs.Bool("list", false, "list the kernels and exit")
	fault := fs.String("fault", "", "misbehave on purpose: hang, exit, noise, short, wrong-len, slow")
	after := fs.Int("fault-after", 0, "commit the fault on the call after this many")
	delay := fs.Duration("delay", time.Second, "how long the slow fault waits")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, n := range Names() {
			fmt.Fprintln(stdout, n)
		}
		return 0
	}
	s, err := Lookup(*name)
	if err != nil {
		fmt.Fprintln(stderr, "embgrad-serve:", err)
		return 2
	}
	if *fault != "" {
		if _, ok := faults[*fault]; !ok {
			fmt.Fprintf(stderr, "embgrad-serve: unknown fault %q\n", *fault)
			return 2
		}
		f := &faulty{fault: *fault, after: int64(*after), delay: *delay, out: stdout}
		if s.Kernel != nil {
			s.Kernel = faultyKernel{s.Kernel, f}
		}
		if s.Tied != nil {
			s.Tied = faultyTied{s.Tied, f}
		}
	}
	if err := extkernel.Serve(stdin, stdout, s); err != nil {
		fmt.Fprintln(stderr, "embgrad-serve:", err)
		return 1
	}
	return 0
}

type faulty struct {
	fault string
	after int64
	delay time.Duration
	calls atomic.Int64
	out   io.Writer
}

// before commits the fault on the chosen call; it reports whether the
// call should go on.
func (f *faulty) before(dst []float32) {
	if f.calls.Add(1)-1 != f.after {
		return
	}
	switch f.fault {
	case "hang":
		for {
			time.Sleep(time.Hour) // (select{} would be a deadlock the runtime reports)
		}
	case "exit":
		os.Exit(3)
	case "noise":
		fmt.Fprintln(f.out, "loaded 3 kernels, ready")
	case "short":
		f.out.Write([]byte(extkernel.Magic + "\x20\x00"))
		os.Exit(0)
	case "wrong-len":
		// A whole Result frame whose dst is one element short, ahead of
		// the real reply.
		n := max(len(dst)-1, 0)
		p := make([]byte, 4+4+8+4*n)
		binary.LittleEndian.PutUint64(p[8:], uint64(n))
		h := make([]byte, extkernel.HeaderLen)
		copy(h, extkernel.Magic)
		binary.LittleEndian.PutUint16(h[4:], extkernel.TypeResult)
		binary.LittleEndian.PutUint32(h[8:], uint32(len(p)))
		f.out.Write(append(h, p...))
		if len(dst) == 0 {
			f.out.Write([]byte("x")) // a zero-length dst cannot be shorter: make it noise
		}
	case "slow":
		time.Sleep(f.delay)
	}
}

type faultyKernel struct {
	embgrad.Kernel
	f *faulty
}

func (k faultyKernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	k.f.before(dst)
	return k.Kernel.Backward(dst, V, D, ids, gradOut, opt)
}

type faultyTied struct {
	embgrad.TiedKernel
	f *faulty
}

func (k faultyTied) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	k.f.before(dst)
	return k.TiedKernel.BackwardTied(dst, a)
}

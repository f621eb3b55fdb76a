// Package cabi loads an embgrad kernel from a shared library through the C
// ABI of include/embgrad.h and offers it as an embgrad.Kernel and an
// embgrad.TiedKernel, for the suites and for embgrad verify -lib.
//
// The library is loaded with github.com/ebitengine/purego, not cgo: the
// embgrad binary then builds with CGO_ENABLED=0 as well (purego brings its
// own dlopen path), needs no C toolchain to build, and only a library that
// is actually loaded needs one. The cost is a call through purego's
// trampoline (well under a microsecond), nothing next to a kernel call.
//
// Unlike a kernel in another process, a library works on embgrad's own
// memory: the buffers it gets are the suites' guarded windows, pinned for
// the call (runtime.Pinner), so stray writes, changed inputs and aliased
// buffers are all observed, and no check is reported not applicable. A
// library that crashes (a segmentation fault) takes the process with it;
// run such a kernel behind the process protocol instead (extkernel).
package cabi

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/embgrad/embgrad"
)

// ABIVersion is the EMBGRAD_ABI_VERSION this package speaks.
const ABIVersion = 1

// Statuses of include/embgrad.h.
const (
	statusOK           = 0
	statusInvalidInput = 1
)

// cCall mirrors struct embgrad_call (128 bytes on LP64).
type cCall struct {
	V, D       int64
	Flags      uint32
	PaddingIdx int32
	Dst        unsafe.Pointer
	LenDst     int64
	IDs        unsafe.Pointer
	LenIDs     int64
	GradOut    unsafe.Pointer
	LenGradOut int64
	T          int64
	H          unsafe.Pointer
	LenH       int64
	DZ         unsafe.Pointer
	LenDZ      int64
	Msg        unsafe.Pointer
	MsgCap     int64
}

var _ [128 - unsafe.Sizeof(cCall{})]byte // the layout is the ABI
var _ [unsafe.Sizeof(cCall{}) - 128]byte

// Lib is a loaded kernel library.
type Lib struct {
	name  string
	dense func(*cCall) int32
	tied  func(*cCall) int32
}

// Open loads the library at path and checks its ABI version.
func Open(path string) (*Lib, error) {
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("cabi: %v", err)
	}
	sym := func(name string) uintptr {
		p, err := purego.Dlsym(h, name)
		if err != nil {
			return 0
		}
		return p
	}
	var version func() int32
	var name func() string
	for _, s := range []struct {
		name string
		fn   any
	}{{"embgrad_abi_version", &version}, {"embgrad_kernel_name", &name}} {
		p := sym(s.name)
		if p == 0 {
			return nil, fmt.Errorf("cabi: %s exports no %s: not an embgrad kernel library", path, s.name)
		}
		purego.RegisterFunc(s.fn, p)
	}
	if v := version(); v != ABIVersion {
		return nil, fmt.Errorf("cabi: %s has ABI version %d, this embgrad %d", path, v, ABIVersion)
	}
	l := &Lib{name: name()}
	if p := sym("embgrad_dense_backward"); p != 0 {
		purego.RegisterFunc(&l.dense, p)
	}
	if p := sym("embgrad_tied_backward"); p != 0 {
		purego.RegisterFunc(&l.tied, p)
	}
	if l.dense == nil && l.tied == nil {
		return nil, fmt.Errorf("cabi: %s exports no backward function", path)
	}
	return l, nil
}

// Name is the library's embgrad_kernel_name.
func (l *Lib) Name() string { return l.name }

// Kernel is the dense form, or nil if the library has none.
func (l *Lib) Kernel() embgrad.Kernel {
	if l.dense == nil {
		return nil
	}
	return dense{l}
}

// Tied is the tied form, or nil. It is also an embgrad.Kernel when the
// library has the dense form.
func (l *Lib) Tied() embgrad.TiedKernel {
	if l.tied == nil {
		return nil
	}
	if l.dense != nil {
		return tiedDense{tied{l}}
	}
	return tied{l}
}

type dense struct{ l *Lib }

func (k dense) Name() string { return k.l.name }

func (k dense) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	c := newCall(V, D, opt)
	return k.l.do(k.l.dense, c, dst, ids, gradOut, nil, nil)
}

type tied struct{ l *Lib }

func (k tied) Name() string { return k.l.name }

func (k tied) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	c := newCall(a.V, a.D, a.Opt)
	c.T = int64(a.T)
	return k.l.do(k.l.tied, c, dst, a.IDs, a.GradOut, a.H, a.DZ)
}

type tiedDense struct{ tied }

func (k tiedDense) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return dense{k.l}.Backward(dst, V, D, ids, gradOut, opt)
}

func newCall(V, D int, opt embgrad.Options) *cCall {
	c := &cCall{V: int64(V), D: int64(D)}
	if opt.HasPadding {
		c.Flags |= 1
		c.PaddingIdx = opt.PaddingIdx
	}
	if opt.ScaleGradByFreq {
		c.Flags |= 2
	}
	return c
}

const msgCap = 1024

// do fills c's buffers, pinned for the call, calls f and turns its status
// into an error.
func (l *Lib) do(f func(*cCall) int32, c *cCall, dst []float32, ids []int32, gradOut, h, dz []float32) error {
	var pin runtime.Pinner
	defer pin.Unpin()
	// An empty window still points into the suites' allocation (at its
	// trailing guard band), so a write through it is caught too; Pin
	// ignores what is not Go heap memory.
	ptr := func(p unsafe.Pointer, n int) unsafe.Pointer {
		if p != nil {
			pin.Pin(p)
		}
		return p
	}
	msg := make([]byte, msgCap)
	c.Dst, c.LenDst = ptr(unsafe.Pointer(unsafe.SliceData(dst)), len(dst)), int64(len(dst))
	c.IDs, c.LenIDs = ptr(unsafe.Pointer(unsafe.SliceData(ids)), len(ids)), int64(len(ids))
	c.GradOut, c.LenGradOut = ptr(unsafe.Pointer(unsafe.SliceData(gradOut)), len(gradOut)), int64(len(gradOut))
	c.H, c.LenH = ptr(unsafe.Pointer(unsafe.SliceData(h)), len(h)), int64(len(h))
	c.DZ, c.LenDZ = ptr(unsafe.Pointer(unsafe.SliceData(dz)), len(dz)), int64(len(dz))
	c.Msg, c.MsgCap = ptr(unsafe.Pointer(&msg[0]), len(msg)), msgCap
	pin.Pin(c)
	st := f(c)
	if st == statusOK {
		return nil
	}
	text := string(msg[:max(0, indexNUL(msg))])
	if text == "" {
		text = fmt.Sprintf("status %d and no message", st)
	}
	if st == statusInvalidInput {
		return &invalid{l.name + ": " + text}
	}
	return errors.New(l.name + ": " + text)
}

func indexNUL(b []byte) int {
	for i, x := range b {
		if x == 0 {
			return i
		}
	}
	return len(b)
}

// invalid is a library's EMBGRAD_INVALID_INPUT: it wraps
// embgrad.ErrInvalidInput.
type invalid struct{ msg string }

func (e *invalid) Error() string { return e.msg }
func (e *invalid) Unwrap() error { return embgrad.ErrInvalidInput }

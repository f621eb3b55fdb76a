package extkernel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
)

// Served is what Serve offers: a dense kernel, a tied kernel, or both,
// under one name. Capabilities follow from the interfaces they implement
// (embgrad.ScratchKernel, embgrad.Parallel, embgrad.TiedParallel,
// embgrad.Nondeterministic).
type Served struct {
	Name   string
	Kernel embgrad.Kernel
	Tied   embgrad.TiedKernel
	Sparse embgrad.SparseKernel
}

// Caps are the capabilities s declares.
func (s Served) Caps() uint64 {
	var c uint64
	if s.Kernel != nil {
		c |= CapDense
		if _, ok := s.Kernel.(embgrad.ScratchKernel); ok {
			c |= CapScratch
		}
		if _, ok := s.Kernel.(embgrad.Parallel); ok {
			c |= CapParallel
		}
		if nd, ok := s.Kernel.(embgrad.Nondeterministic); ok && nd.Nondeterministic() {
			c |= CapNondeterministic
		}
	}
	if s.Sparse != nil {
		c |= CapSparse
		if nd, ok := s.Sparse.(embgrad.Nondeterministic); ok && nd.Nondeterministic() {
			c |= CapNondeterministic
		}
	}
	if s.Tied != nil {
		c |= CapTied
		if _, ok := s.Tied.(embgrad.TiedParallel); ok && (s.Kernel == nil || c&CapParallel != 0) {
			c |= CapParallel
		}
		if nd, ok := s.Tied.(embgrad.Nondeterministic); ok && nd.Nondeterministic() {
			c |= CapNondeterministic
		}
	}
	return c
}

// Serve is the kernel side of the protocol in Go: it answers the frames
// read from r (a process's stdin) on w (its stdout) until r ends, and is
// what a Go program in another process — cmd/embgrad-serve, a test binary —
// runs to be verified with embgrad verify -exec. Each call gets fresh
// buffers decoded from the frame, so what the kernel does to them beyond
// dst is invisible to the host, as for a kernel in any language. A panic in
// the kernel is answered with StatusPanic and the message the suites give
// in process.
func Serve(r io.Reader, w io.Writer, s Served) error {
	br := bufio.NewReaderSize(r, 1<<16)
	bw := bufio.NewWriterSize(w, 1<<16)
	for {
		t, p, err := readFrame(br, math.MaxUint32)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var reply []byte
		switch t {
		case TypeHello:
			d := &dec{b: p}
			v := d.u32("version")
			if err := d.done(); err != nil {
				return fmt.Errorf("hello: %v", err)
			}
			_ = v // the host checks versions; the reply states this side's
			e := frame(TypeWelcome, 16+len(s.Name))
			e.u32(Version)
			e.u64(s.Caps())
			e.str(s.Name)
			reply = e.finish()
		case TypeSparse:
			c, err := decodeCall(t, p)
			if err != nil {
				return fmt.Errorf("call of type %d: %v", t, err)
			}
			reply = s.answerSparse(c)
		case TypeDense, TypeTied:
			c, err := decodeCall(t, p)
			if err != nil {
				return fmt.Errorf("call of type %d: %v", t, err)
			}
			reply = s.answer(t, c)
		default:
			reply = result(StatusUnsupported, fmt.Sprintf("message type %d is not served", t), nil)
		}
		if _, err := bw.Write(reply); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
}

func result(status uint32, msg string, dst []float32) []byte {
	e := frame(TypeResult, 16+len(msg)+4*len(dst))
	e.u32(status)
	e.str(msg)
	e.f32s(dst)
	return e.finish()
}

// answer runs one decoded call.
func (s Served) answer(t uint16, c *call) []byte {
	if t == TypeDense && s.Kernel == nil || t == TypeTied && s.Tied == nil {
		return result(StatusUnsupported, fmt.Sprintf("%q serves no calls of type %d", s.Name, t), nil)
	}
	V, D, T := int(c.V), int(c.D), int(c.T)
	if int64(V) != c.V || int64(D) != c.D || int64(T) != c.T {
		return result(StatusInvalidInput, fmt.Sprintf("%v: V = %d, D = %d or T = %d does not fit an int here", embgrad.ErrInvalidInput, c.V, c.D, c.T), c.Dst)
	}
	opt := embgrad.Options{ScaleGradByFreq: c.Flags&FlagScale != 0}
	if c.Flags&FlagPadding != 0 {
		opt = opt.WithPadding(c.PaddingIdx)
	}
	var f func() error
	if t == TypeDense {
		k := s.Kernel
		if p, ok := k.(embgrad.Parallel); ok && c.Workers > 0 {
			k = p.WithWorkers(int(c.Workers))
		}
		f = func() error { return k.Backward(c.Dst, V, D, c.IDs, c.GradOut, opt) }
		if c.Flags&FlagScratch != 0 {
			f = func() error { return embgrad.Scratch(k, c.Dst, V, D, c.IDs, c.GradOut, opt) }
		}
	} else {
		k := s.Tied
		if p, ok := k.(embgrad.TiedParallel); ok && c.Workers > 0 {
			k = p.WithTiedWorkers(int(c.Workers))
		}
		a := embgrad.TiedArgs{V: V, D: D, IDs: c.IDs, GradOut: c.GradOut, Opt: opt, T: T, H: c.H, DZ: c.DZ}
		f = func() error { return k.BackwardTied(c.Dst, a) }
	}
	err := suite.Protect(f)
	var v *suite.Violation
	switch {
	case err == nil:
		return result(StatusOK, "", c.Dst)
	case errors.As(err, &v):
		return result(StatusPanic, v.Msg, c.Dst)
	case errors.Is(err, embgrad.ErrInvalidInput):
		return result(StatusInvalidInput, err.Error(), c.Dst)
	default:
		return result(StatusError, err.Error(), c.Dst)
	}
}

func sparseResult(status uint32, msg string, u int, rows []int32, values []float32) []byte {
	e := frame(TypeSparseResult, 32+len(msg)+4*(len(rows)+len(values)))
	e.u32(status)
	e.str(msg)
	e.u64(uint64(u))
	e.i32s(rows)
	e.f32s(values)
	return e.finish()
}

func (s Served) answerSparse(c *call) []byte {
	if s.Sparse == nil {
		return sparseResult(StatusUnsupported, fmt.Sprintf("%q serves no sparse calls", s.Name), 0, nil, nil)
	}
	V, D := int(c.V), int(c.D)
	if int64(V) != c.V || int64(D) != c.D {
		return sparseResult(StatusInvalidInput, fmt.Sprintf("%v: V = %d or D = %d does not fit an int here", embgrad.ErrInvalidInput, c.V, c.D), 0, c.Rows, c.Values)
	}
	opt := embgrad.Options{ScaleGradByFreq: c.Flags&FlagScale != 0}
	if c.Flags&FlagPadding != 0 {
		opt = opt.WithPadding(c.PaddingIdx)
	}
	var u int
	err := suite.Protect(func() (err error) {
		u, err = s.Sparse.Sparse(c.Rows, c.Values, V, D, c.IDs, c.GradOut, opt)
		return err
	})
	// U goes back as the kernel returned it, wild or not: the suites judge it.
	var v *suite.Violation
	switch {
	case err == nil:
		return sparseResult(StatusOK, "", u, c.Rows, c.Values)
	case errors.As(err, &v):
		return sparseResult(StatusPanic, v.Msg, u, c.Rows, c.Values)
	case errors.Is(err, embgrad.ErrInvalidInput):
		return sparseResult(StatusInvalidInput, err.Error(), u, c.Rows, c.Values)
	default:
		return sparseResult(StatusError, err.Error(), u, c.Rows, c.Values)
	}
}

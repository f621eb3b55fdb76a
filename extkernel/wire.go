package extkernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// Version is the protocol version this package speaks; the handshake
// refuses any other.
const Version = 1

// Magic starts every frame, so that stray bytes on a kernel's stdout (a
// print left in, a library's banner) are reported as noise instead of being
// read as a length.
const Magic = "EGRD"

// HeaderLen is the length of a frame header: Magic, the message type
// (uint16), a reserved uint16 (zero) and the payload length (uint32), all
// little-endian.
const HeaderLen = 12

// Message types. Types 19–31 are reserved for the forms being added
// (bag, 16-bit); a kernel answers a type it does not know with
// StatusUnsupported.
const (
	TypeHello   = 1  // host → kernel: uint32 version
	TypeWelcome = 2  // kernel → host: uint32 version, uint64 capabilities, string name
	TypeDense   = 16 // host → kernel: a dense backward call
	TypeTied    = 17 // host → kernel: a tied backward call
	TypeSparse  = 18 // host → kernel: a sparse (coalesced) backward call
	TypeBag     = 19 // reserved
	TypeHalf    = 20 // reserved (16-bit gradOut or dst)
	TypeResult  = 32 // kernel → host: status, message, dst after the call
	// TypeSparseResult answers TypeSparse: status, message, uint64 U,
	// rows and values after the call.
	TypeSparseResult = 33
)

// Capabilities a kernel declares in its Welcome.
const (
	CapDense            = 1 << 0 // answers TypeDense
	CapScratch          = 1 << 1 // TypeDense with FlagScratch: its own from-scratch path
	CapTied             = 1 << 2 // answers TypeTied
	CapParallel         = 1 << 3 // honours the workers field
	CapNondeterministic = 1 << 4 // may sum in a different order run to run
	CapSparse           = 1 << 8 // answers TypeSparse
	// Bits 9–15 are reserved for the forms being added: bag, 16-bit.
)

// Flags of a call.
const (
	FlagPadding = 1 << 0 // Options.HasPadding (PaddingIdx follows)
	FlagScale   = 1 << 1 // Options.ScaleGradByFreq
	FlagScratch = 1 << 2 // overwrite dst (embgrad.ScratchKernel); dense only
)

// Result statuses; include/embgrad.h uses the same numbers.
const (
	StatusOK           = 0 // dst holds the result
	StatusInvalidInput = 1 // the kernel rejected its input (wraps embgrad.ErrInvalidInput)
	StatusError        = 2 // any other error the kernel returned
	StatusPanic        = 3 // the kernel crashed inside and recovered (a Go panic, a C++ exception)
	StatusUnsupported  = 4 // the kernel does not serve this message type
)

// maxFrame bounds a payload the host accepts: a reply longer than the
// request could be is malformed, and no allocation follows a wild length.
const maxFrame = 1 << 31

// A call is the decoded payload of TypeDense or TypeTied. A field is
// sent as given, invalid values included (negative V, lengths that do not
// match the shape): validating is the kernel's job, and what is checked.
type call struct {
	V, D, T    int64
	Flags      uint32
	PaddingIdx int32
	Workers    uint32
	Dst        []float32
	IDs        []int32
	GradOut    []float32
	H, DZ      []float32 // tied only
	Rows       []int32   // sparse only: the rows output (sent as given)
	Values     []float32 // sparse only: the values output
}

// enc appends little-endian values to a frame.
type enc struct{ b []byte }

func (e *enc) u16(x uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, x) }
func (e *enc) u32(x uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, x) }
func (e *enc) u64(x uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, x) }
func (e *enc) str(s string) { e.u32(uint32(len(s))); e.b = append(e.b, s...) }
func (e *enc) f32s(x []float32) {
	e.u64(uint64(len(x)))
	e.b = append(e.b, f32bytes(x)...)
}
func (e *enc) i32s(x []int32) {
	e.u64(uint64(len(x)))
	e.b = append(e.b, i32bytes(x)...)
}

// frame starts a frame of type t; finish fills in its length.
func frame(t uint16, sizeHint int) *enc {
	e := &enc{b: make([]byte, 0, HeaderLen+sizeHint)}
	e.b = append(e.b, Magic...)
	e.u16(t)
	e.u16(0)
	e.u32(0)
	return e
}

func (e *enc) finish() []byte {
	binary.LittleEndian.PutUint32(e.b[8:], uint32(len(e.b)-HeaderLen))
	return e.b
}

// littleEndian is true on the machines this runs on (amd64, arm64): arrays
// are then copied as they lie in memory.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

func f32bytes(x []float32) []byte {
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x))
	}
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func i32bytes(x []int32) []byte {
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x))
	}
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

// encodeCall is the frame of a dense or tied call.
func encodeCall(t uint16, c *call) []byte {
	n := 4 * (len(c.Dst) + len(c.IDs) + len(c.GradOut) + len(c.H) + len(c.DZ) + len(c.Rows) + len(c.Values))
	e := frame(t, 80+n)
	e.u64(uint64(c.V))
	e.u64(uint64(c.D))
	if t == TypeTied {
		e.u64(uint64(c.T))
	}
	e.u32(c.Flags)
	e.u32(uint32(c.PaddingIdx))
	e.u32(c.Workers)
	if t == TypeSparse {
		e.i32s(c.Rows)
		e.f32s(c.Values)
	} else {
		e.f32s(c.Dst)
	}
	e.i32s(c.IDs)
	e.f32s(c.GradOut)
	if t == TypeTied {
		e.f32s(c.H)
		e.f32s(c.DZ)
	}
	return e.finish()
}

// dec reads little-endian values from a payload; the first short read
// sets err and every later read returns zeros.
type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) take(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.err = fmt.Errorf("%s: needs %d bytes at offset %d, payload has %d", what, n, d.off, len(d.b))
		return nil
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p
}

func (d *dec) u32(what string) uint32 {
	if p := d.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *dec) u64(what string) uint64 {
	if p := d.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *dec) str(what string) string { return string(d.take(uint64(d.u32(what)), what)) }

func (d *dec) f32s(what string) []float32 {
	n := d.u64(what + " count")
	if n > math.MaxInt/4 {
		d.err = fmt.Errorf("%s: count %d too large", what, n)
		return nil
	}
	p := d.take(4*n, what)
	if p == nil {
		return nil
	}
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return x
}

func (d *dec) i32s(what string) []int32 {
	n := d.u64(what + " count")
	if n > math.MaxInt/4 {
		d.err = fmt.Errorf("%s: count %d too large", what, n)
		return nil
	}
	p := d.take(4*n, what)
	if p == nil {
		return nil
	}
	x := make([]int32, n)
	for i := range x {
		x[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return x
}

// done returns the first error, or one for bytes left over.
func (d *dec) done() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%d bytes after the last field", len(d.b)-d.off)
	}
	return d.err
}

func decodeCall(t uint16, p []byte) (*call, error) {
	d := &dec{b: p}
	c := &call{}
	c.V = int64(d.u64("V"))
	c.D = int64(d.u64("D"))
	if t == TypeTied {
		c.T = int64(d.u64("T"))
	}
	c.Flags = d.u32("flags")
	c.PaddingIdx = int32(d.u32("padding_idx"))
	c.Workers = d.u32("workers")
	if t == TypeSparse {
		c.Rows = d.i32s("rows")
		c.Values = d.f32s("values")
	} else {
		c.Dst = d.f32s("dst")
	}
	c.IDs = d.i32s("ids")
	c.GradOut = d.f32s("gradOut")
	if t == TypeTied {
		c.H = d.f32s("H")
		c.DZ = d.f32s("dZ")
	}
	return c, d.done()
}

// errNoise is a frame that does not start with Magic.
var errNoise = errors.New("not a frame")

// readFrame reads one frame and returns its type and payload. A header that
// does not start with Magic is reported with the bytes seen (errNoise).
func readFrame(r io.Reader, max uint32) (uint16, []byte, error) {
	var h [HeaderLen]byte
	if n, err := io.ReadFull(r, h[:]); err != nil {
		if n > 0 && string(h[:min(n, 4)]) != Magic[:min(n, 4)] {
			return 0, nil, fmt.Errorf("%w: %q then %v", errNoise, h[:n], err)
		}
		if err == io.ErrUnexpectedEOF {
			return 0, nil, fmt.Errorf("short frame header: %d of %d bytes, then end of stream", n, HeaderLen)
		}
		return 0, nil, err
	}
	if string(h[:4]) != Magic {
		return 0, nil, fmt.Errorf("%w: %q", errNoise, h[:])
	}
	t := binary.LittleEndian.Uint16(h[4:])
	n := binary.LittleEndian.Uint32(h[8:])
	if n > max {
		return 0, nil, fmt.Errorf("frame of type %d announces %d bytes, more than the %d expected", t, n, max)
	}
	p := make([]byte, n)
	if got, err := io.ReadFull(r, p); err != nil {
		return 0, nil, fmt.Errorf("short frame of type %d: %d of %d payload bytes, then %v", t, got, n, err)
	}
	return t, p, nil
}

package extkernel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
)

// Defaults of Config.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultStartTimeout = 60 * time.Second // an interpreter importing torch takes seconds
	DefaultMaxTimeouts  = 2
	DefaultMaxRestarts  = 20
)

// Kinds of suite.Violation a failing kernel process gives. They are
// distinct so that a shrinking property keeps a case that failed the same
// way: a case that finds the process down is not a smaller hang.
const (
	KindTimeout = "timeout" // no reply within Config.Timeout: killed
	KindProcess = "process" // exited, or replied with something not a reply
	KindDown    = "down"    // not restarted after too many failures
)

// Config sets how a kernel process is run; its zero value is usable.
type Config struct {
	// Timeout bounds each call (writing the request and reading the
	// reply); a kernel that exceeds it is killed. 0: DefaultTimeout.
	Timeout time.Duration
	// StartTimeout bounds starting the process and the handshake.
	// 0: DefaultStartTimeout.
	StartTimeout time.Duration
	// Stderr receives the process's stderr; nil discards it. The last
	// bytes are kept either way and quoted when the process fails.
	Stderr io.Writer
	// MaxTimeouts is how many time-outs are restarted from; after that
	// every call fails at once (KindDown), so a kernel that hangs costs at
	// most MaxTimeouts×Timeout. 0: DefaultMaxTimeouts.
	MaxTimeouts int
	// MaxRestarts bounds restarts after any failure. 0: DefaultMaxRestarts.
	MaxRestarts int
}

func (c Config) withDefaults() Config {
	def := func(x *time.Duration, d time.Duration) {
		if *x <= 0 {
			*x = d
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.StartTimeout, DefaultStartTimeout)
	if c.MaxTimeouts <= 0 {
		c.MaxTimeouts = DefaultMaxTimeouts
	}
	if c.MaxRestarts <= 0 {
		c.MaxRestarts = DefaultMaxRestarts
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	return c
}

// A Process is a running kernel process and the kernels it serves. Calls
// from several goroutines are sent one at a time. A process that fails a
// call (time-out, exit, a malformed reply) is killed and started again for
// the next call, within Config's limits.
type Process struct {
	argv []string
	cfg  Config
	name string
	caps uint64

	mu       sync.Mutex
	stats    Stats
	c        *child // nil when down
	timeouts int
	restarts int
	downWhy  string // why the process is no longer restarted
}

// Start starts argv as a kernel process and performs the handshake.
func Start(argv []string, cfg Config) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("extkernel: no command")
	}
	p := &Process{argv: argv, cfg: cfg.withDefaults()}
	c, err := p.start()
	if err != nil {
		return nil, err
	}
	p.c = c
	return p, nil
}

// Command is Start of a command line run by /bin/sh (so quoting and
// environment assignments work as in a shell).
func Command(line string, cfg Config) (*Process, error) {
	return Start([]string{"/bin/sh", "-c", line}, cfg)
}

// Name is the kernel's name from the handshake.
func (p *Process) Name() string { return p.name }

// Caps are the capabilities from the handshake (CapDense, …).
func (p *Process) Caps() uint64 { return p.caps }

// Stats counts a process's traffic.
type Stats struct {
	Calls          int   // calls answered or failed
	Sent, Received int64 // frame bytes
}

// Stats returns the counts so far.
func (p *Process) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close ends the process: its stdin is closed, and it is killed if it has
// not exited within a second.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.c
	p.c, p.downWhy = nil, "closed"
	if c == nil {
		return nil
	}
	c.in.Close()
	select {
	case <-c.exited:
	case <-time.After(time.Second):
		c.kill()
		<-c.exited
	}
	c.outR.Close()
	return nil
}

// discard kills the child and closes the read end of its stdout, which
// also ends a read blocked on a pipe that a grandchild still holds open.
func (c *child) discard() {
	c.kill()
	c.outR.Close()
}

// child is one run of the process.
type child struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	outR    *os.File // the read end of the child's stdout
	out     *bufio.Reader
	tail    *tailWriter
	exited  chan struct{}
	waitErr error
}

func (p *Process) start() (*child, error) {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	setGroup(cmd)
	tail := &tailWriter{w: p.cfg.Stderr}
	cmd.Stderr = tail
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Our own pipe, not cmd.StdoutPipe: Wait closes a StdoutPipe as soon as
	// the process exits, which can discard a reply (or a short frame) the
	// process wrote just before it exited, turning "short frame header" into
	// "file already closed" depending on who runs first. The read end is
	// closed by discard, once the child is no longer read.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = outW
	err = cmd.Start()
	outW.Close() // the child has its copy
	if err != nil {
		outR.Close()
		return nil, fmt.Errorf("extkernel: %v", err)
	}
	c := &child{cmd: cmd, in: in, outR: outR, out: bufio.NewReaderSize(outR, 1<<16), tail: tail, exited: make(chan struct{})}
	go func() { c.waitErr = cmd.Wait(); close(c.exited) }()

	e := frame(TypeHello, 4)
	e.u32(Version)
	t, payload, err := c.roundTrip(e.finish(), p.cfg.StartTimeout, 1<<20)
	if err == nil && t != TypeWelcome {
		err = fmt.Errorf("handshake: reply of type %d, want Welcome (%d)", t, TypeWelcome)
	}
	var name string
	var caps uint64
	if err == nil {
		d := &dec{b: payload}
		v := d.u32("version")
		caps = d.u64("capabilities")
		name = d.str("name")
		if err = d.done(); err != nil {
			err = fmt.Errorf("handshake: malformed Welcome: %v", err)
		} else if v != Version {
			err = fmt.Errorf("handshake: the kernel speaks protocol version %d, this embgrad version %d", v, Version)
		}
	}
	if err != nil {
		c.discard()
		return nil, fmt.Errorf("extkernel: %s: %v", strings.Join(p.argv, " "), c.describe(err))
	}
	if p.name == "" && p.caps == 0 {
		p.name, p.caps = name, caps
	} else if name != p.name || caps != p.caps {
		c.discard()
		return nil, fmt.Errorf("extkernel: restarted kernel says it is %q with capabilities %#x, was %q with %#x", name, caps, p.name, p.caps)
	}
	return c, nil
}

// errTimeout is a round trip that ran out of time.
var errTimeout = errors.New("timed out")

// roundTrip writes req and reads one frame back, killing the process if
// that takes longer than timeout.
func (c *child) roundTrip(req []byte, timeout time.Duration, max uint32) (uint16, []byte, error) {
	var fired atomic.Bool
	timer := time.AfterFunc(timeout, func() { fired.Store(true); c.discard() })
	_, err := c.in.Write(req)
	var t uint16
	var p []byte
	if err == nil {
		t, p, err = readFrame(c.out, max)
	} else if _, _, rerr := readFrame(c.out, max); errors.Is(rerr, errNoise) {
		// The process stopped reading (a broken pipe) after writing
		// something that is not a frame: that says more than the pipe.
		err = rerr
	}
	timer.Stop()
	if fired.Load() {
		return 0, nil, fmt.Errorf("%w: no reply within %v: the kernel hangs; killed (pid %d)", errTimeout, timeout, c.cmd.Process.Pid)
	}
	return t, p, err
}

// describe turns a transport error into what a person needs: whether the
// process exited, with what status, and its last stderr lines.
func (c *child) describe(err error) string {
	if errors.Is(err, errTimeout) {
		return err.Error() + c.tail.quote()
	}
	if errors.Is(err, errNoise) {
		return "stdout noise: " + strings.TrimPrefix(err.Error(), errNoise.Error()+": ") +
			" is not a frame (a kernel writes only frames to stdout; diagnostics go to stderr)" + c.tail.quote()
	}
	select {
	case <-c.exited:
	case <-time.After(2 * time.Second):
	}
	select {
	case <-c.exited:
		status := "exited"
		if c.waitErr != nil {
			status = c.waitErr.Error()
		}
		return fmt.Sprintf("the kernel's process ended (%s) during the call: %v", status, err) + c.tail.quote()
	default:
		return "malformed reply: " + err.Error() + c.tail.quote()
	}
}

// exchange sends req and reads one frame of type want, which decode reads
// (returning an error for a malformed one). A failure of the process is a
// *suite.Violation (KindTimeout, KindProcess, KindDown), after which the
// process is killed and, within Config's limits, restarted for the next
// call.
func (p *Process) exchange(req []byte, want uint16, decode func(*dec) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.c == nil {
		if err := p.restart(); err != nil {
			return err
		}
	}
	ch := p.c
	p.stats.Calls++
	p.stats.Sent += int64(len(req))
	rt, payload, err := ch.roundTrip(req, p.cfg.Timeout, uint32(min(maxFrame, 64+len(req)+(1<<16))))
	p.stats.Received += int64(HeaderLen + len(payload))
	if err == nil {
		if rt != want {
			err = fmt.Errorf("reply of type %d, want %d", rt, want)
		} else {
			d := &dec{b: payload}
			if err = decode(d); err == nil {
				err = d.done()
			}
		}
	}
	if err == nil {
		return nil
	}
	kind := KindProcess
	if errors.Is(err, errTimeout) {
		kind = KindTimeout
		p.timeouts++
	}
	what := ch.describe(err)
	ch.discard()
	p.c = nil
	what = fmt.Sprintf("kernel process %q: %s", p.name, what)
	if p.timeouts >= p.cfg.MaxTimeouts {
		p.downWhy = fmt.Sprintf("%d time-out(s)", p.timeouts)
	}
	if p.downWhy == "" {
		what += "; it is restarted for the next call"
	} else {
		what += "; not restarted (" + p.downWhy + ")"
	}
	return &suite.Violation{Kind: kind, Msg: what}
}

// status turns a reply's status into the call's error: nil, the kernel's
// own error keeping its message (wrapping embgrad.ErrInvalidInput for
// StatusInvalidInput), or a panic violation.
func (p *Process) status(t uint16, status uint32, msg string) error {
	switch status {
	case StatusOK:
		return nil
	case StatusInvalidInput:
		return &kernelError{msg: msg, invalid: true}
	case StatusError:
		return &kernelError{msg: msg}
	case StatusPanic:
		return &suite.Violation{Kind: suite.Panicked, Msg: msg}
	default:
		return fmt.Errorf("kernel process %q does not serve message type %d: %s", p.name, t, msg)
	}
}

// call sends a dense or tied call and copies the dst of the reply into dst
// (after a failed call too: it is the kernel's dst).
func (p *Process) call(t uint16, c *call, dst []float32) error {
	var status uint32
	var msg string
	err := p.exchange(encodeCall(t, c), TypeResult, func(d *dec) error {
		status = d.u32("status")
		msg = d.str("message")
		out := d.f32s("dst")
		switch {
		case d.err != nil:
			return d.err
		case status > StatusUnsupported:
			return fmt.Errorf("unknown status %d", status)
		case status != StatusUnsupported && len(out) != len(dst):
			return fmt.Errorf("reply's dst has %d elements, the call's %d", len(out), len(dst))
		}
		if status != StatusUnsupported {
			copy(dst, out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.status(t, status, msg)
}

// callSparse sends a sparse call and copies rows and values back.
func (p *Process) callSparse(c *call) (int, error) {
	var status uint32
	var msg string
	var u uint64
	err := p.exchange(encodeCall(TypeSparse, c), TypeSparseResult, func(d *dec) error {
		status = d.u32("status")
		msg = d.str("message")
		u = d.u64("U")
		rows := d.i32s("rows")
		values := d.f32s("values")
		switch {
		case d.err != nil:
			return d.err
		case status > StatusUnsupported:
			return fmt.Errorf("unknown status %d", status)
		case status == StatusUnsupported:
			return nil
		case len(rows) != len(c.Rows) || len(values) != len(c.Values):
			return fmt.Errorf("reply's rows and values have %d and %d elements, the call's %d and %d", len(rows), len(values), len(c.Rows), len(c.Values))
		}
		copy(c.Rows, rows)
		copy(c.Values, values)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(int64(u)), p.status(TypeSparse, status, msg)
}

// restart starts the process again unless it is down for good.
func (p *Process) restart() error {
	if p.downWhy == "" && p.restarts >= p.cfg.MaxRestarts {
		p.downWhy = fmt.Sprintf("%d restarts", p.restarts)
	}
	if p.downWhy != "" {
		return down(fmt.Sprintf("kernel process %q is down after %s; not restarted", p.name, p.downWhy))
	}
	p.restarts++
	c, err := p.start()
	if err != nil {
		p.downWhy = "a failed restart"
		return down(err.Error())
	}
	p.c = c
	return nil
}

// down is the failure of a call the process is no longer started for: a
// *suite.Violation of KindDown that also wraps suite.ErrUnavailable.
func down(msg string) error {
	return &downError{&suite.Violation{Kind: KindDown, Msg: msg}}
}

type downError struct{ v *suite.Violation }

func (e *downError) Error() string   { return e.v.Msg }
func (e *downError) Unwrap() []error { return []error{e.v, suite.ErrUnavailable} }

// kernelError is an error the kernel returned, with its message as sent.
type kernelError struct {
	msg     string
	invalid bool
}

func (e *kernelError) Error() string { return e.msg }

func (e *kernelError) Is(target error) bool { return e.invalid && target == embgrad.ErrInvalidInput }

// tailWriter passes writes on and keeps the last bytes.
type tailWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

const tailLen = 2048

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailLen {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailLen:]...)
	}
	t.mu.Unlock()
	t.w.Write(b)
	return len(b), nil
}

// quote is "; stderr: …" with the last lines written, or "".
func (t *tailWriter) quote() string {
	time.Sleep(20 * time.Millisecond) // let the last lines of a dying process arrive
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	return "; its stderr ends: " + strings.Join(lines, " | ")
}

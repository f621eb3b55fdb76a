package extkernel_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/extkernel"
	"github.com/embgrad/embgrad/internal/extserve"
	"github.com/embgrad/embgrad/internal/suite"
)

// The test binary is its own kernel process: with EXTKERNEL_SERVE set it
// runs extserve.Main on those arguments instead of the tests, so no binary
// is built and CI needs nothing but Go.
func TestMain(m *testing.M) {
	if args := os.Getenv("EXTKERNEL_SERVE"); args != "" {
		os.Exit(extserve.Main(strings.Fields(args), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// serve starts this binary serving args and closes it at the end of t.
func serve(t testing.TB, args string, cfg extkernel.Config) *extkernel.Process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := extkernel.Start([]string{"/usr/bin/env", "EXTKERNEL_SERVE=" + args, exe}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestDenseCall(t *testing.T) {
	p := serve(t, "-kernel loop", extkernel.Config{})
	k := p.Kernel()
	if k == nil || k.Name() != "loop" || p.Tied() != nil {
		t.Fatalf("kernel %v, tied %v", k, p.Tied())
	}
	dst := []float32{1, 2, 3, 4, 5, 6}
	err := k.Backward(dst, 3, 2, []int32{2, 0, 2}, []float32{0.5, 0.25, 10, 20, 1, 1}, embgrad.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{11, 22, 3, 4, 6.5, 7.25}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("dst = %v, want %v", dst, want)
		}
	}
	// A bad id comes back as the kernel's own error, wrapping
	// ErrInvalidInput, dst as the kernel left it.
	err = k.Backward(dst, 3, 2, []int32{3}, []float32{1, 1}, embgrad.Options{})
	var v *suite.Violation
	if !errors.Is(err, embgrad.ErrInvalidInput) || errors.As(err, &v) || !strings.Contains(err.Error(), "ids[0] = 3") {
		t.Fatalf("bad id: %v", err)
	}
}

// Each failure of the process is a violation of its own kind, says what
// happened, never hangs the host, and the process is restarted after it.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		fault, kind, says string
	}{
		{"hang", extkernel.KindTimeout, "no reply within 300ms: the kernel hangs; killed"},
		{"exit", extkernel.KindProcess, "process ended (exit status 3)"},
		{"noise", extkernel.KindProcess, `stdout noise: "loaded 3 ker" is not a frame`},
		{"short", extkernel.KindProcess, "short frame header: 6 of 12 bytes"},
		{"wrong-len", extkernel.KindProcess, "reply's dst has 5 elements, the call's 6"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			timeout := 20 * time.Second // a generous limit: the fault must be seen before it
			if tc.fault == "hang" {
				timeout = 300 * time.Millisecond
			}
			p := serve(t, "-kernel loop -fault-after 1 -fault "+tc.fault, extkernel.Config{Timeout: timeout})
			k := p.Kernel()
			call := func() error {
				dst := make([]float32, 6)
				return k.Backward(dst, 3, 2, []int32{1}, []float32{1, 2}, embgrad.Options{})
			}
			if err := call(); err != nil {
				t.Fatalf("first call: %v", err)
			}
			err := call()
			if !suite.IsViolation(err, tc.kind) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want a %q violation saying %q", err, tc.kind, tc.says)
			}
			// Restarted: the fresh process counts calls from 0 again.
			if err := call(); err != nil {
				t.Fatalf("after a restart: %v", err)
			}
		})
	}
}

// A kernel that hangs every time is given up after MaxTimeouts; later
// calls fail at once as down, a kind of their own.
func TestHangGivenUp(t *testing.T) {
	p := serve(t, "-kernel loop -fault hang", extkernel.Config{Timeout: 200 * time.Millisecond, MaxTimeouts: 2})
	k := p.Kernel()
	for i, want := range []string{extkernel.KindTimeout, extkernel.KindTimeout, extkernel.KindDown, extkernel.KindDown} {
		err := k.Backward(make([]float32, 2), 1, 2, nil, nil, embgrad.Options{})
		if !suite.IsViolation(err, want) {
			t.Fatalf("call %d: %v, want kind %q", i, err, want)
		}
	}
}

// A process that does not speak the protocol fails the start, naming it.
func TestStartFails(t *testing.T) {
	_, err := extkernel.Command("echo hello", extkernel.Config{StartTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "stdout noise") {
		t.Fatalf("echo: %v", err)
	}
	_, err = extkernel.Command("exit 7", extkernel.Config{StartTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exit status 7") {
		t.Fatalf("exit 7: %v", err)
	}
	_, err = extkernel.Command("sleep 10", extkernel.Config{StartTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no reply within 200ms") {
		t.Fatalf("sleep: %v", err)
	}
}

var lookup = extserve.Lookup

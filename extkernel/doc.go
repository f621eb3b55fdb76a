// Package extkernel verifies embedding-backward kernels written in any
// language: a kernel process speaks a small framed protocol on its stdin
// and stdout, and Start (or Command) turns it into an embgrad.Kernel and an
// embgrad.TiedKernel that the gradcheck and property suites take like any
// other. docs/PROTOCOL.md is the specification, with a byte-level example.
//
// The contract on the host side:
//
//   - One process per kernel, started once and kept running; calls from
//     several goroutines are sent one at a time.
//   - Every call has a time-out (Config.Timeout, default 5 s). A time-out,
//     the process exiting, a short or malformed reply and stdout noise are
//     each a *suite.Violation (KindTimeout, KindProcess) saying what
//     happened, with the end of the process's stderr; the process is killed
//     (its process group) and started again for the next call. After
//     MaxTimeouts time-outs or MaxRestarts restarts it is not restarted and
//     calls fail at once (KindDown). Nothing the process does can hang or
//     crash the host.
//   - The kernel's own errors keep their text; StatusInvalidInput wraps
//     embgrad.ErrInvalidInput. dst is copied back after every answered call,
//     failed ones included, so "dst unchanged on error" is checked.
//   - Capabilities from the handshake give the value the same optional
//     interfaces as the kernel (embgrad.ScratchKernel, embgrad.Parallel,
//     embgrad.TiedParallel, embgrad.Nondeterministic), so the suites run
//     the same checks as in process.
//   - The kernels are suite.Boundary values: the kernel works on copies, so
//     stray writes, changed inputs and aliasing cannot be observed, and the
//     checks that exist to observe them report not applicable.
//
// Serve is the kernel side in Go (cmd/embgrad-serve serves the built-in
// and the broken kernels with it); clients/python has the kernel side in
// Python with numpy and PyTorch kernels. Package extkernel/cabi loads a
// kernel from a shared library through the C ABI of include/embgrad.h
// instead, where every check applies.
//
// The dense, tied and sparse forms are spoken (Kernel, Tied, Sparse);
// message types 19–31 and capability bits 9–15 are reserved for the bag
// and 16-bit forms.
package extkernel

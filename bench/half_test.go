package bench

import (
	"fmt"
	"runtime/debug"
	"syscall"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/half"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/reference"
)

// bytesPerOp16 is the bytes model of the 16-bit family in accumulate mode:
// read gradOut (2·N·D for a 16-bit one, 4·N·D for float32) and ids (4·N),
// and read and write each distinct touched row once (2·4·U·D into a
// float32 dst, 2·2·U·D into a 16-bit one).
func bytesPerOp16(s Shape, distinct int, g16, d16 bool) int64 {
	ge, de := int64(4), int64(4)
	if g16 {
		ge = 2
	}
	if d16 {
		de = 2
	}
	return ge*int64(s.N)*int64(s.D) + 4*int64(s.N) + 2*de*int64(distinct)*int64(s.D)
}

// BenchmarkBackward16 runs the 16-bit kernels of the registry (both
// formats, into a float32 and a 16-bit dst) and, as the in-run yardstick,
// the float32 simd kernel, in accumulate mode:
//
//	BenchmarkBackward16/impl=<k>/V=<v>/D=<d>/N=<n>/dist=<dist>/mode=accumulate/dtype=<bf16|f16|f32>/dst=<f32|16>
//
// gradOut holds the values of BenchmarkBackward's gradOut rounded to the
// format; each kernel's output is checked against the float64 oracle on
// the touched rows before it is timed (-embgrad.check).
func BenchmarkBackward16(b *testing.B) {
	shapes, err := SelectShapes(*shapesFlag)
	if err != nil {
		b.Fatal(err)
	}
	f32, ok := registry.Lookup("simd")
	if !ok {
		b.Fatal("no simd kernel in the registry")
	}
	for _, s := range shapes {
		in := &inputs{shape: s}
		dst, g32 := in.buffers()
		g16 := map[embgrad.Format][]uint16{embgrad.BFloat16: make([]uint16, len(g32)), embgrad.Float16: make([]uint16, len(g32))}
		half.NarrowBFloat16(g16[embgrad.BFloat16], g32)
		half.NarrowFloat16(g16[embgrad.Float16], g32)
		d16 := make([]uint16, len(dst))
		clear(d16) // fault the pages in before timing, as inputs.buffers does for dst
		for _, d := range Dists() {
			c := &distCase{in: in, dist: d}
			ids, err := c.setup()
			if err != nil {
				b.Fatal(err)
			}
			U := len(c.rows)
			name := func(impl string, dt, dd string) string {
				return Sub(Backward16Keys, impl, s.V, s.D, s.N, d, Accumulate, dt, dd)
			}
			b.Run(name(f32.Name(), "f32", "f32"), func(b *testing.B) {
				b.SetBytes(bytesPerOp16(s, U, false, false))
				n, cpu0 := 0, cpuNanos()
				for b.Loop() {
					if err := f32.Backward(dst, s.V, s.D, ids, g32, embgrad.Options{}); err != nil {
						b.Fatal(err)
					}
					n++
				}
				report16(b, n, s, cpu0)
			})
			for _, k := range registry.Half() {
				for _, f := range []embgrad.Format{embgrad.BFloat16, embgrad.Float16} {
					opt := embgrad.HalfOptions{Format: f}
					g := g16[f]
					b.Run(name(k.Name(), f.String(), "f32"), func(b *testing.B) {
						if *checkFlag && !in.validated[b.Name()] {
							if err := validate16(c, k, g, opt, false); err != nil {
								b.Fatalf("not timing %s: %v", k.Name(), err)
							}
							in.validated[b.Name()] = true
						}
						b.SetBytes(bytesPerOp16(s, U, true, false))
						n, cpu0 := 0, cpuNanos()
						for b.Loop() {
							if err := k.BackwardHalf(dst, s.V, s.D, ids, g, opt); err != nil {
								b.Fatal(err)
							}
							n++
						}
						report16(b, n, s, cpu0)
					})
					b.Run(name(k.Name(), f.String(), "16"), func(b *testing.B) {
						if *checkFlag && !in.validated[b.Name()] {
							if err := validate16(c, k, g, opt, true); err != nil {
								b.Fatalf("not timing %s: %v", k.Name(), err)
							}
							in.validated[b.Name()] = true
						}
						b.SetBytes(bytesPerOp16(s, U, true, true))
						n, cpu0 := 0, cpuNanos()
						for b.Loop() {
							if err := k.BackwardHalf16(d16, s.V, s.D, ids, g, opt); err != nil {
								b.Fatal(err)
							}
							n++
						}
						report16(b, n, s, cpu0)
					})
				}
			}
		}
		in.release()
		debug.FreeOSMemory()
	}
}

// validate16 runs k once from a zero dst (float32, or 16-bit when d16) and
// compares the touched rows with the float64 oracle on the compacted ids.
func validate16(c *distCase, k registry.HalfKernel, g []uint16, opt embgrad.HalfOptions, d16 bool) error {
	s := c.in.shape
	U, D := len(c.rows), s.D
	if d16 {
		dst := make([]uint16, s.V*s.D)
		if err := k.BackwardHalf16(dst, s.V, s.D, c.ids, g, opt); err != nil {
			return err
		}
		got := make([]uint16, U*D)
		for r, id := range c.rows {
			copy(got[r*D:(r+1)*D], dst[int(id)*D:])
		}
		want, err := reference.Half16Oracle(make([]uint16, U*D), U, D, c.compact, g, opt)
		if err != nil {
			return err
		}
		if err := want.Check(got); err != nil {
			return fmt.Errorf("%s, dist=%s, %v into 16 bits: %w", s, c.dist, opt.Format, err)
		}
		return nil
	}
	dst := make([]float32, s.V*s.D)
	if err := k.BackwardHalf(dst, s.V, s.D, c.ids, g, opt); err != nil {
		return err
	}
	got := make([]float32, U*D)
	for r, id := range c.rows {
		copy(got[r*D:(r+1)*D], dst[int(id)*D:])
	}
	want, err := reference.HalfOracle(make([]float32, U*D), U, D, c.compact, g, opt)
	if err != nil {
		return err
	}
	if err := want.Check(got); err != nil {
		return fmt.Errorf("%s, dist=%s, %v into float32: %w", s, c.dist, opt.Format, err)
	}
	return nil
}

// cpuNanos is the process's user+system CPU time: on a shared machine the
// wall time of a serial kernel includes waiting for a core, its CPU time
// much less so.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// report16 reports tokens/s and the CPU time per call (cpu-ns/op; the
// process's, so GC is included) of n calls since cpu0.
func report16(b *testing.B, n int, s Shape, cpu0 int64) {
	b.ReportMetric(float64(n)*float64(s.N)/b.Elapsed().Seconds(), benchfile.TokensPerSec)
	b.ReportMetric(float64(cpuNanos()-cpu0)/float64(n), "cpu-ns/op")
}

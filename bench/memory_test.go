package bench

import (
	"runtime"
	"sync"
	"testing"
)

// probeBytes is the size of each buffer of the memory probe, far beyond any
// last-level cache, so the probe measures DRAM bandwidth.
const probeBytes = 256 << 20

// sink keeps the read probe's result alive.
var sink uint64

// BenchmarkMemory is the memory-bandwidth probe that kernels are compared
// with, run in the same process as BenchmarkBackward:
//
//	BenchmarkMemory/op=<read|write|copy>/size=<bytes>/threads=<t>
//
// read XORs every word of the buffer, write clears it, copy copies it into a
// second buffer; threads goroutines each take one contiguous part. B/s
// counts bytes read plus bytes written (size for read and write, 2·size for
// copy), as the kernels' bytes model does. A kernel at w workers is stated
// as a fraction of op=copy at threads=w: the roofline for a pass that reads
// and writes memory.
func BenchmarkMemory(b *testing.B) {
	var src, dst []uint64
	buffers := func() ([]uint64, []uint64) {
		if src == nil {
			var err error
			// Never released: the probe's buffers live as long as the process.
			if src, _, err = Big[uint64](probeBytes/8, *hugeFlag); err != nil {
				b.Fatal(err)
			}
			if dst, _, err = Big[uint64](probeBytes/8, *hugeFlag); err != nil {
				b.Fatal(err)
			}
			for i := range src {
				src[i] = uint64(i) // touch every page before timing
			}
			copy(dst, src)
			runtime.GC() // the cycle these allocations started ends before timing, as in inputs.buffers
		}
		return src, dst
	}
	ops := []struct {
		name  string
		bytes int64
		run   func(src, dst []uint64)
	}{
		{"read", probeBytes, func(src, _ []uint64) { sink += xorWords(src) }},
		{"write", probeBytes, func(_, dst []uint64) { clear(dst) }},
		{"copy", 2 * probeBytes, func(src, dst []uint64) { copy(dst, src) }},
	}
	for _, op := range ops {
		for _, t := range WorkerCounts(runtime.GOMAXPROCS(0)) {
			b.Run(Sub(MemoryKeys, op.name, probeBytes, t), func(b *testing.B) {
				src, dst := buffers()
				b.SetBytes(op.bytes)
				warmUp(func() error { inParts(t, src, dst, op.run); return nil })
				for b.Loop() {
					inParts(t, src, dst, op.run)
				}
			})
		}
	}
}

// inParts runs f on t contiguous parts of src and dst, one goroutine each.
func inParts(t int, src, dst []uint64, f func(src, dst []uint64)) {
	if t == 1 {
		f(src, dst)
		return
	}
	var wg sync.WaitGroup
	part := (len(src)/t + 7) &^ 7 // whole cache lines
	for lo := 0; lo < len(src); lo += part {
		hi := min(lo+part, len(src))
		wg.Go(func() { f(src[lo:hi], dst[lo:hi]) })
	}
	wg.Wait()
}

// xorWords reads every word of s with eight independent chains, so the
// loop is bound by memory, not by the latency of one dependency chain.
func xorWords(s []uint64) uint64 {
	var a0, a1, a2, a3, a4, a5, a6, a7 uint64
	for len(s) >= 8 {
		a0 ^= s[0]
		a1 ^= s[1]
		a2 ^= s[2]
		a3 ^= s[3]
		a4 ^= s[4]
		a5 ^= s[5]
		a6 ^= s[6]
		a7 ^= s[7]
		s = s[8:]
	}
	for _, x := range s {
		a0 ^= x
	}
	return a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7
}

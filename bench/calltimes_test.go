package bench

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/embgrad/embgrad/bench/internal/peak"
	"github.com/embgrad/embgrad/impl/registry"
)

// TestCallTimes prints the distribution of single-call times (and of 100 ms
// window means) of the compute probe, simd on GPT-2 / Zipf / accumulate, and
// a 256 MB copy, 3 s each: the noise study's look inside a sample
// (results/noise/NOISE.md). It asserts nothing and runs only with
// EMBGRAD_NOISE_CALLTIMES=1 (it takes 12 s of a quiet machine):
//
//	cd bench && EMBGRAD_NOISE_CALLTIMES=1 flock -x /tmp/embgrad-machine.lock go test -run TestCallTimes -v
func TestCallTimes(t *testing.T) {
	if os.Getenv("EMBGRAD_NOISE_CALLTIMES") != "1" {
		t.Skip("set EMBGRAD_NOISE_CALLTIMES=1 to run (a measurement, not a test)")
	}
	s, _ := ShapeByName("gpt2")
	in := &inputs{shape: s}
	c := &distCase{in: in, dist: Zipf}
	dst, g := in.buffers()
	ids, err := c.setup()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := registry.Lookup("simd")
	src := make([]uint64, probeBytes/8)
	dd := make([]uint64, probeBytes/8)
	for i := range src {
		src[i] = uint64(i)
	}
	copy(dd, src)
	loops := peak.Loops()
	for _, name := range []string{"peak", "simd-acc", "copy1", "peak"} {
		if name == "peak" && len(loops) == 0 {
			continue
		}
		var d []time.Duration
		start := time.Now()
		for time.Since(start) < 3*time.Second {
			t0 := time.Now()
			switch name {
			case "peak":
				peakSink += loops[0].Run(calltimesPeakTurns)
			case "copy1":
				copy(dd, src)
			default:
				if err := call(k, Accumulate, dst, s, ids, g); err != nil {
					t.Fatal(err)
				}
			}
			d = append(d, time.Since(t0))
		}
		var win []string
		var sum time.Duration
		n := 0
		for _, x := range d {
			sum += x
			n++
			if sum > 100*time.Millisecond {
				win = append(win, fmt.Sprintf("%.2f", float64(sum)/float64(n)/1e6))
				sum, n = 0, 0
			}
		}
		ds := slices.Sorted(slices.Values(d))
		q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
		t.Logf("%s: n=%d first=%v min=%v p10=%v p50=%v p90=%v p99=%v max=%v\n  100 ms windows (ms): %v",
			name, len(d), d[:min(5, len(d))], q(0), q(.1), q(.5), q(.9), q(.99), q(1), win)
	}
}

// calltimesPeakTurns is the compute op the noise study timed call by call
// (results/noise/calltimes.txt): 2¹⁶ turns, a few hundred microseconds, as
// BenchmarkPeak's op was then; kept so that the study reproduces.
const calltimesPeakTurns = 1 << 16

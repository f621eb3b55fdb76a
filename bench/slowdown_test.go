package bench

import (
	"flag"
	"time"
)

// slowFlag is -embgrad.slowdown: a test-only knob for calibrating the
// regression gate. After each timed BenchmarkBackward call the benchmark
// loop spins for that percentage of the call's own duration, so every
// kernel looks that much slower, as a real slowdown of the kernel would
// (the spin is CPU work on the calling goroutine, like the kernel's).
// It lives in the benchmark binary only: no kernel has it. 0, the
// default, does nothing.
var slowFlag = flag.Float64(FlagSlowdown, 0, "test-only: make each timed BenchmarkBackward call this many percent slower by spinning after it (gate calibration)")

// slowdown spins for slowFlag percent of the time since t0.
func slowdown(t0 time.Time) {
	if *slowFlag <= 0 {
		return
	}
	d := time.Duration(float64(time.Since(t0)) * *slowFlag / 100)
	for t1 := time.Now(); time.Since(t1) < d; {
	}
}

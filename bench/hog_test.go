package bench

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// hogFlag is -embgrad.hog: the number of CPU hogs to run beside the
// benchmarks, each a child process (this test binary, re-executed) that
// keeps one CPU busy in a tight loop, pinned nowhere, as another program on
// a shared machine would. They start before the first benchmark and are
// killed after the last. The run's output carries a config line
// "hog: <n>", so benchstat can put quiet and loaded runs side by side
// (benchstat -col hog quiet.txt loaded.txt), and "hog-cpu: <f>", the CPUs
// the hogs actually used over the run (user+system time / wall time): the
// calibration of the load.
var hogFlag = flag.Int(FlagHog, 0, "number of busy-loop child processes (each one CPU) to run beside the benchmarks, to measure under load")

// hogEnv marks a re-executed test binary as a hog.
const hogEnv = "EMBGRAD_BENCH_HOG_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(hogEnv) == "1" {
		hog()
	}
	flag.Parse()
	if err := printQuietConfig(); err != nil {
		fmt.Fprintln(os.Stderr, "embgrad bench:", err)
		os.Exit(2)
	}
	stop, err := startHogs(*hogFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "embgrad bench:", err)
		os.Exit(2)
	}
	code := m.Run()
	stop()
	cpuLatRelease()
	os.Exit(code)
}

// hog spins forever on one goroutine and one OS thread.
func hog() {
	runtime.GOMAXPROCS(1)
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			fmt.Println(x) // never: keeps the loop from being removed
		}
	}
}

// startHogs starts n hogs and returns the function that kills them and
// prints the CPUs they used.
func startHogs(n int) (stop func(), err error) {
	if n <= 0 {
		return func() {}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("-%s: %w", FlagHog, err)
	}
	var cmds []*exec.Cmd
	kill := func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
	for range n {
		c := exec.Command(self)
		c.Env = append(os.Environ(), hogEnv+"=1")
		if err := c.Start(); err != nil {
			kill()
			return nil, fmt.Errorf("-%s: starting a hog: %w", FlagHog, err)
		}
		cmds = append(cmds, c)
	}
	start := time.Now()
	fmt.Printf("hog: %d\n", n)
	return func() {
		wall := time.Since(start)
		kill()
		var cpu time.Duration
		for _, c := range cmds {
			if s := c.ProcessState; s != nil {
				cpu += s.UserTime() + s.SystemTime()
			}
		}
		// After the results: benchfmt applies a config line to the
		// results that follow it, so this one labels none.
		fmt.Printf("hog-cpu: %.2f\n", cpu.Seconds()/wall.Seconds())
	}, nil
}

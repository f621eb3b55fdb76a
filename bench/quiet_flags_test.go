package bench

import (
	"flag"
	"fmt"
)

// warmFlag is -embgrad.warmup: before each BenchmarkBackward and
// BenchmarkMemory sample, the call it times runs untimed for at least this
// long (and at least once when it is > 0), so that the first, slow call
// of a sample is not in it (bench.WarmUp).
var warmFlag = flag.Duration(FlagWarmUp, 0, "untimed warm-up before each sample of BenchmarkBackward and BenchmarkMemory (0: none)")

// hugeFlag is -embgrad.hugepages: BenchmarkBackward's table and gradOut and
// BenchmarkMemory's buffers are mapped with MADV_HUGEPAGE (bench.Big).
var hugeFlag = flag.Bool(FlagHugePages, false, "back BenchmarkBackward's and BenchmarkMemory's buffers with transparent huge pages (changes what is measured: fewer TLB misses)")

// cpuLatFlag is -embgrad.cpulatency0: hold /dev/cpu_dma_latency at 0 for the
// whole run (bench.HoldCPULatency), so idle vCPUs poll and a goroutine
// started on one runs at once. It needs root, and it makes the whole
// machine's idle CPUs spin while the benchmarks run.
var cpuLatFlag = flag.Bool(FlagCPULatency, false, "hold /dev/cpu_dma_latency at 0 during the run: idle CPUs poll instead of halting (root only)")

// cpuLatRelease ends the -embgrad.cpulatency0 request (at exit otherwise).
var cpuLatRelease = func() {}

// warmUp runs f untimed as -embgrad.warmup says.
func warmUp(f func() error) error {
	if *warmFlag <= 0 {
		return nil
	}
	_, err := WarmUp(1, *warmFlag, f)
	return err
}

// printQuietConfig prints the config lines of the settings that differ
// from the defaults, so benchstat can put runs with and without them side
// by side (benchstat -col warmup a.txt b.txt).
// With -embgrad.hugepages it first checks that the system has transparent
// huge pages to give, so that a run asking for them fails at once instead
// of measuring 4 KB pages.
func printQuietConfig() error {
	if *hugeFlag {
		_, free, err := Big[byte](hugePage, true)
		if err != nil {
			return err
		}
		free()
	}
	if *cpuLatFlag {
		r, err := HoldCPULatency("/dev/cpu_dma_latency", 0)
		if err != nil {
			return err
		}
		cpuLatRelease = r
		fmt.Println("cpulatency: 0")
	}
	if *warmFlag > 0 {
		fmt.Printf("warmup: %v\n", *warmFlag)
	}
	if *hugeFlag {
		fmt.Println("hugepages: on")
	}
	return nil
}

// bigFloat32s is bench.Big for the benchmarks' buffers under -embgrad.hugepages.
func bigFloat32s(n int) ([]float32, func(), error) { return Big[float32](n, *hugeFlag) }

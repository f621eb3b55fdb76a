package team

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU time the process has used, or −1 if unknown.
var processCPU = func() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return -1
	}
	return time.Duration(ts.Nano())
}

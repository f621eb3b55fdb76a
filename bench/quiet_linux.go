package bench

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmapHuge maps size bytes (anonymous, private, zero) starting at a 2 MB
// boundary and advises the range MADV_HUGEPAGE before anything touches it.
// It fails when transparent huge pages are "never" or absent, so that a run
// asking for them does not silently measure 4 KB pages.
func mmapHuge(size int) (unsafe.Pointer, func(), error) {
	if mode, err := thpMode(); err != nil || mode == "never" {
		return nil, nil, fmt.Errorf("-%s: %w (mode %q, %v)", FlagHugePages, errNoHuge, mode, err)
	}
	span := (size + hugePage - 1) &^ (hugePage - 1)
	m, err := unix.Mmap(-1, 0, span+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("-%s: mmap %d bytes: %w", FlagHugePages, span+hugePage, err)
	}
	off := 0
	if r := int(uintptr(unsafe.Pointer(&m[0])) % hugePage); r != 0 {
		off = hugePage - r
	}
	region := m[off : off+span]
	if err := unix.Madvise(region, unix.MADV_HUGEPAGE); err != nil {
		unix.Munmap(m)
		return nil, nil, fmt.Errorf("-%s: madvise(MADV_HUGEPAGE): %w", FlagHugePages, err)
	}
	return unsafe.Pointer(&region[0]), func() { unix.Munmap(m) }, nil
}

// thpMode is the selected mode of /sys/kernel/mm/transparent_hugepage/enabled
// ("always", "madvise" or "never").
func thpMode() (string, error) {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return "", err
	}
	for _, f := range strings.Fields(string(b)) {
		if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") {
			return strings.Trim(f, "[]"), nil
		}
	}
	return "", fmt.Errorf("no selected mode in %q", strings.TrimSpace(string(b)))
}

// HoldCPULatency writes a latency bound of us microseconds to path
// (/dev/cpu_dma_latency: the PM QoS request that keeps idle CPUs out of
// deep idle states; 0 makes them poll) and keeps it open: the request
// holds until release closes it or the process exits. It needs root. On
// this VM an idle vCPU otherwise halts, and a goroutine handed to it waits
// for the host to wake it (results/noise/NOISE.md).
func HoldCPULatency(path string, us int32) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("-%s: %w", FlagCPULatency, err)
	}
	b := []byte{byte(us), byte(us >> 8), byte(us >> 16), byte(us >> 24)} // the kernel reads a native (little-endian) s32
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("-%s: writing %s: %w", FlagCPULatency, path, err)
	}
	return func() { f.Close() }, nil
}

//go:build !linux

package bench

import (
	"fmt"
	"unsafe"
)

func mmapHuge(size int) (unsafe.Pointer, func(), error) {
	return nil, nil, fmt.Errorf("-%s: %w", FlagHugePages, errNoHuge)
}

func HoldCPULatency(path string, us int32) (func(), error) {
	return nil, fmt.Errorf("-%s: %s: only on Linux", FlagCPULatency, path)
}

func thpMode() (string, error) { return "", errNoHuge }

//go:build !linux

package bench

import (
	"fmt"
	"unsafe"
)

func mmapHuge(size int) (unsafe.Pointer, func(), error) {
	return nil, nil, fmt.Errorf("-%s: %w", FlagHugePages, errNoHuge)
}

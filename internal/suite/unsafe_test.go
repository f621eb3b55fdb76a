package suite

import "unsafe"

func unsafeAdd(p *float32, off int) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(p), off) }

func unsafePointer(p *int32) unsafe.Pointer { return unsafe.Pointer(p) }

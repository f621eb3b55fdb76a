package suite

import "math"

// GuardLen is the length of the guard bands around every buffer a suite
// hands a kernel (gonum's guardVector idea). The bands hold a signalling
// NaN: arithmetic quiets it, so a stray store and even a stray += change
// its bits.
const (
	GuardLen  = 16
	guardBits = 0x7fa05afe
)

// Guarded returns a copy of x as the window win of buf, between guard
// bands. win's capacity reaches into the trailing band, so a kernel that
// writes past len(win) within its capacity is caught too.
func Guarded(x []float32) (buf, win []float32) {
	buf = make([]float32, len(x)+2*GuardLen)
	for k := range buf {
		buf[k] = math.Float32frombits(guardBits)
	}
	copy(buf[GuardLen:], x)
	return buf, buf[GuardLen : GuardLen+len(x)]
}

// Stray returns the first element of buf's guard bands, buf from Guarded
// of n elements, that a kernel changed, as an index into the window (< 0
// before it, ≥ n after it), or ok false if both bands are intact.
func Stray(buf []float32, n int) (i int, ok bool) {
	for k, x := range buf {
		if (k < GuardLen || k >= GuardLen+n) && math.Float32bits(x) != guardBits {
			return k - GuardLen, true
		}
	}
	return 0, false
}

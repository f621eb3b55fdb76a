package suite

import "testing"

// An int32 output's guard bands catch a write past its length, within its
// capacity, and leave writes inside alone.
func TestOutIDsGuard(t *testing.T) {
	b := OutIDs("rows", []int32{1, 2})
	if err := Call(func() error { b.I32()[1] = 7; return nil }, b); err != nil {
		t.Fatalf("write inside the window: %v", err)
	}
	err := Call(func() error { w := b.I32(); w[:cap(w)][2] = 7; return nil }, b)
	if !IsViolation(err, StrayWrite) {
		t.Fatalf("write past len(rows): got %v, want a stray-write violation", err)
	}
}

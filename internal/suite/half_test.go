package suite

import "testing"

// A 16-bit output's bands catch a store past its length within its
// capacity; a 16-bit input may not change at all.
func TestU16Guards(t *testing.T) {
	o, in := Out16("dst", []uint16{1, 2, 3}), In16("gradOut", []uint16{4, 5})
	if err := Call(func() error { o.U16()[2] = 9; return nil }, o, in); err != nil {
		t.Errorf("a write inside the window: %v", err)
	}
	err := Call(func() error { w := o.U16(); w[:cap(w)][3] = 1; return nil }, o, in)
	if !IsViolation(err, StrayWrite) {
		t.Errorf("a write past len(dst): %v, want a stray-write violation", err)
	}
	o = Out16("dst", []uint16{1})
	err = Call(func() error { in.U16()[0]++; return nil }, o, in)
	if !IsViolation(err, ChangedInput) {
		t.Errorf("a modified gradOut: %v, want a changed-input violation", err)
	}
}

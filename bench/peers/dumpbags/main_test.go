package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench"
)

// The files hold exactly bench.BagInputs' ids, and the manifest describes
// them with BagBytes' model.
func TestDump(t *testing.T) {
	dir := t.TempDir()
	m, err := dump(dir)
	if err != nil {
		t.Fatal(err)
	}
	var back Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Format != Format || len(back.Shapes) != len(bench.BagShapes()) {
		t.Fatalf("manifest: %v, %+v", err, back)
	}
	for i, s := range bench.BagShapes() {
		e := m.Shapes[i]
		want, _, err := bench.BagInputs(s)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int32, len(raw)/4)
		if _, err := binary.Decode(raw, binary.LittleEndian, got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ids differ from bench.BagInputs", s.Name)
		}
		U := len(slices.Compact(slices.Sorted(slices.Values(want))))
		if e.Distinct != U || e.Bytes["sum/accumulate/none"] != bench.BagBytes(s, embgrad.BagSum, false, false, U, 0) {
			t.Errorf("%s: distinct %d (want %d) or bytes %v wrong", s.Name, e.Distinct, U, e.Bytes)
		}
	}
}

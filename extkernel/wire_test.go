package extkernel

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// docFrames returns the bytes of each ```frames block of docs/PROTOCOL.md.
func docFrames(t *testing.T) [][]byte {
	b, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	in := false
	var cur []byte
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "```frames":
			in, cur = true, nil
		case in && line == "```":
			in = false
			out = append(out, cur)
		case in:
			if i := strings.Index(line, "#"); i >= 0 {
				line = line[:i]
			}
			x, err := hex.DecodeString(strings.Join(strings.Fields(line), ""))
			if err != nil {
				t.Fatalf("PROTOCOL.md: %q: %v", line, err)
			}
			cur = append(cur, x...)
		}
	}
	return out
}

// The byte-level example of docs/PROTOCOL.md is what the encoder writes.
func TestProtocolDocExample(t *testing.T) {
	hello := frame(TypeHello, 4)
	hello.u32(Version)
	welcome := frame(TypeWelcome, 0)
	welcome.u32(Version)
	welcome.u64(CapDense | CapTied)
	welcome.str("c-loop")
	c := &call{V: 3, D: 2, Flags: FlagPadding, PaddingIdx: 1, Dst: make([]float32, 6), IDs: []int32{2, 0}, GradOut: []float32{0.5, 1, 2, -1}}
	want := [][]byte{hello.finish(), welcome.finish(), encodeCall(TypeDense, c), result(StatusOK, "", []float32{2, -1, 0, 0, 0.5, 1})}
	got := docFrames(t)
	if len(got) != len(want) {
		t.Fatalf("%d frames in PROTOCOL.md, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("frame %d:\ndoc     % x\nencoder % x", i, got[i], want[i])
		}
	}
	// And the call decodes back to itself.
	d, err := decodeCall(TypeDense, want[2][HeaderLen:])
	if err != nil || d.V != 3 || d.D != 2 || d.PaddingIdx != 1 || len(d.Dst) != 6 || d.IDs[0] != 2 || d.GradOut[3] != -1 {
		t.Fatalf("decoded %+v, %v", d, err)
	}
}

// Truncated or padded payloads are malformed, never a panic.
func TestDecodeMalformed(t *testing.T) {
	c := &call{V: 3, D: 2, Dst: make([]float32, 6), IDs: []int32{2, 0}, GradOut: []float32{0.5, 1, 2, -1}}
	p := encodeCall(TypeDense, c)[HeaderLen:]
	for n := range len(p) {
		if _, err := decodeCall(TypeDense, p[:n]); err == nil {
			t.Fatalf("a payload cut at %d decoded", n)
		}
	}
	if _, err := decodeCall(TypeDense, append(p, 0)); err == nil {
		t.Fatal("a byte past the last field decoded")
	}
	huge := append([]byte(nil), p...)
	copy(huge[28:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}) // dst count
	if _, err := decodeCall(TypeDense, huge); err == nil {
		t.Fatal("a wild count decoded")
	}
}

package registry_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/property"
)

// FuzzBackward decodes bytes into a Backward call, valid or not, and checks
// every built-in kernel on it with property.Case.Verify: valid input must
// agree with reference.Oracle within its bound, invalid input must be
// rejected with dst unchanged, and no kernel may panic, write outside dst
// or change its inputs. The seed corpus is testdata/fuzz/FuzzBackward.
//
// What the decoder (see decode) can reach: every validation error; padding
// and scaling; widths around the vector sizes (D < 40); batches of up to
// maxPositions positions, through repeat runs, so sorted's radix passes
// (128 positions or more), sharded's grouping of rows named more than 256
// times and its parallel path (len(ids)·D ≥ 2¹⁶) all run; tables of up to
// 65535 rows; and, with D = 0, any V (up to 2⁶²), where the call must
// return without panicking (the oracle, which sizes its tables by V, is
// not consulted there).
//
//	go test -run '^$' -fuzz FuzzBackward -fuzztime 60s ./impl/registry
func FuzzBackward(f *testing.F) {
	// flags, V, D, N, then ids and values; see decode.
	f.Add([]byte{0, 1, 1, 2, 1, 1, 8, 8})                     // V=1 D=1 ids=[0 0]: duplicates
	f.Add([]byte{3, 4, 9, 3, 1, 2, 1, 2, 3, 4, 5, 6})         // padding and scaling, D=9 (a SIMD tail)
	f.Add([]byte{0, 3, 2, 3, 1, 4, 2})                        // ids[1] = V: invalid
	f.Add([]byte{2, 9, 3, 3, 2, 255, 40, 5})                  // scaled, 1+321+1 ids: a hot row, radix sort
	f.Add([]byte{64, 0x10, 0x27, 3, 2, 0x0f, 0x27, 255, 255}) // V=10000, ids 9998 then 2041 repeats
	f.Add([]byte{128 | 2, 34, 7, 2, 255, 10})                 // D=0, V=2³⁴+7, scaled
	f.Fuzz(func(t *testing.T, data []byte) {
		c, huge := decode(data)
		for _, k := range registry.Kernels() {
			if huge {
				noPanic(t, k, c)
				continue
			}
			if err := c.Verify(k); err != nil {
				t.Errorf("%s: %v\ncase %v", k.Name(), err, c)
			}
		}
	})
}

// seeds are the inline seed corpus: flags, V, D, N, then ids and values;
// see decode.
var seeds = [][]byte{
	{0, 1, 1, 2, 1, 1, 8, 8},                        // V=1 D=1 ids=[0 0]: duplicates
	{3, 4, 9, 3, 1, 2, 1, 2, 3, 4, 5, 6},            // padding and scaling, D=9 (a SIMD tail)
	{0, 3, 2, 3, 1, 4, 2},                           // ids[1] = V: invalid
	{2, 9, 3, 3, 2, 255, 40, 5},                     // scaled, 1+321+1 ids: a hot row, radix sort
	{64, 0x10, 0x27, 3, 2, 0x0f, 0x27, 255, 0, 255}, // V=10000, id 9998 2042 times
	{128 | 2, 34, 7, 2, 2, 255, 10},                 // D=0, V=2³⁴+7, scaled, 82 ids
}

// TestDecodeReaches checks the doc's claims of what the decoder reaches,
// on the seeds above.
func TestDecodeReaches(t *testing.T) {
	hot := func(c property.Case) (most int) {
		n := map[int32]int{}
		for _, id := range c.IDs {
			n[id]++
			most = max(most, n[id])
		}
		return most
	}
	if c, _ := decode(seeds[3]); len(c.IDs) < 128 || hot(c) <= 256 {
		t.Errorf("seed 3: %d ids, a row named %d times; want ≥ 128 and > 256", len(c.IDs), hot(c))
	}
	if c, _ := decode(seeds[4]); c.V != 10000 || len(c.IDs) != 2042 || c.IDs[0] != 9998 || len(c.IDs)*c.D < 1<<12 {
		t.Errorf("seed 4: V=%d D=%d, %d ids from %d; want V=10000, 2042 ids of 9998", c.V, c.D, len(c.IDs), c.IDs[0])
	}
	if c, huge := decode(seeds[5]); !huge || c.V != 1<<34+7 || c.D != 0 || len(c.IDs) != 82 {
		t.Errorf("seed 5: huge=%v V=%d D=%d, %d ids; want D=0, V=2³⁴+7, 82 ids", huge, c.V, c.D, len(c.IDs))
	}
}

// noPanic calls k on c, whose V is too large for the oracle, and requires
// nil or a validation error and no panic.
func noPanic(t *testing.T, k embgrad.Kernel, c property.Case) {
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v\ncase V=%d D=%d len(ids)=%d opt=%+v", k.Name(), r, c.V, c.D, len(c.IDs), c.Opt)
		}
	}()
	if err := k.Backward(c.Dst, c.V, c.D, c.IDs, c.GradOut, c.Opt); err != nil && !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("%s: %v does not wrap ErrInvalidInput", k.Name(), err)
	}
}

// maxPositions bounds the batch that repeat runs can build, so that one
// input stays cheap to check.
const maxPositions = 4096

// decode maps any bytes to a call; missing bytes read as zero. It reports
// huge when the call has D = 0 and a V too large to build an oracle for.
//
//	flags: 1 padding, 2 scaling, 4 zero dst, 8 wrong len(dst),
//	       16 wrong len(gradOut), 32 negative V,
//	       64 wide: V and each id read as two bytes (little-endian), D < 4,
//	       128 huge: D = 0 and V = 2^(byte mod 63) + byte
//	V, D, N: one byte each (V < 64, D < 40, N < 64); N counts id entries
//	ids: an entry is one byte b (two with flag 64), id = b mod (V+2) − 1,
//	     so −1 and V occur; the byte 255 instead starts a repeat run, the
//	     previous id (0 at the start) 8·r+1 more times for the next byte r,
//	     up to maxPositions positions in all
//	padding index: one entry, if set
//	values (gradOut, then dst): a byte < 128 is a small dyadic value
//	(b−64)/16; otherwise the next four bytes are float32 bits (NaN, ±Inf,
//	subnormals, huge)
func decode(data []byte) (c property.Case, huge bool) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	value := func() float32 {
		b := next()
		if b < 128 {
			return float32(int(b)-64) / 16
		}
		var w [4]byte
		for i := range w {
			w[i] = next()
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(w[:]))
	}
	flags := next()
	wide, huge := flags&64 != 0, flags&128 != 0
	word := func() int {
		if wide {
			lo := next()
			return int(lo) | int(next())<<8
		}
		return int(next())
	}
	index := func(b int) int32 { return int32(b%(c.V+2)) - 1 }

	switch {
	case huge:
		b := next()
		c.V = 1<<(b%63) + int(next())
		next() // D's byte, so that the layout stays the same
	case wide:
		c.V, c.D = word(), int(next()%4)
	default:
		c.V, c.D = int(next()%64), int(next()%40)
	}
	entries := int(next() % 64)
	for range entries {
		if len(c.IDs) >= maxPositions {
			break
		}
		b := word()
		if b != 255 {
			c.IDs = append(c.IDs, index(b))
			continue
		}
		prev := int32(0)
		if len(c.IDs) > 0 {
			prev = c.IDs[len(c.IDs)-1]
		}
		for n := 8*int(next()) + 1; n > 0 && len(c.IDs) < maxPositions; n-- {
			c.IDs = append(c.IDs, prev)
		}
	}
	if flags&1 != 0 {
		c.Opt = c.Opt.WithPadding(index(word()))
	}
	c.Opt.ScaleGradByFreq = flags&2 != 0
	c.GradOut = make([]float32, len(c.IDs)*c.D)
	for i := range c.GradOut {
		c.GradOut[i] = value()
	}
	c.Dst = make([]float32, c.V*c.D)
	if flags&4 == 0 {
		for i := range c.Dst {
			c.Dst[i] = value()
		}
	}
	if flags&8 != 0 {
		c.Dst = append(c.Dst, 0)
	}
	if flags&16 != 0 && len(c.GradOut) > 0 {
		c.GradOut = c.GradOut[1:]
	}
	if flags&32 != 0 {
		c.V = -c.V - 1
	}
	return c, huge
}

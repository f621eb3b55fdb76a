package registry_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/property"
)

// FuzzBackward decodes bytes into a Backward call, valid or not, and checks
// every built-in kernel on it with property.Case.Verify: valid input must
// agree with reference.Oracle within its bound, invalid input must be
// rejected with dst unchanged, and no kernel may panic, write outside dst
// or change its inputs. The seed corpus is testdata/fuzz/FuzzBackward.
//
//	go test -run '^$' -fuzz FuzzBackward -fuzztime 60s ./impl/registry
func FuzzBackward(f *testing.F) {
	// flags, V, D, N, then ids and values; see decode.
	f.Add([]byte{0, 1, 1, 2, 1, 1, 8, 8})             // V=1 D=1 ids=[0 0]: duplicates
	f.Add([]byte{3, 4, 9, 3, 1, 2, 1, 2, 3, 4, 5, 6}) // padding and scaling, D=9 (a SIMD tail)
	f.Add([]byte{0, 3, 2, 3, 1, 4, 2})                // ids[1] = V: invalid
	f.Fuzz(func(t *testing.T, data []byte) {
		c := decode(data)
		for _, k := range registry.Kernels() {
			if err := c.Verify(k); err != nil {
				t.Errorf("%s: %v\ncase %v", k.Name(), err, c)
			}
		}
	})
}

// decode maps any bytes to a small call; missing bytes read as zero.
//
//	flags: 1 padding, 2 scaling, 4 zero dst, 8 wrong len(dst),
//	       16 wrong len(gradOut), 32 negative V
//	V, D, N: one byte each (V < 64, D < 40, N < 64)
//	ids: one byte each, id = b mod (V+2) − 1, so −1 and V occur
//	padding index: likewise, if set
//	values (gradOut, then dst): a byte < 128 is a small dyadic value
//	(b−64)/16; otherwise the next four bytes are float32 bits (NaN, ±Inf,
//	subnormals, huge)
func decode(data []byte) property.Case {
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
	index := func(V int) int32 { return int32(int(next())%(V+2)) - 1 }

	flags := next()
	c := property.Case{V: int(next() % 64), D: int(next() % 40)}
	c.IDs = make([]int32, next()%64)
	for i := range c.IDs {
		c.IDs[i] = index(c.V)
	}
	if flags&1 != 0 {
		c.Opt = c.Opt.WithPadding(index(c.V))
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
	return c
}

package bagsharded_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/bagloop"
	"github.com/embgrad/embgrad/internal/suite"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/bagsharded"
	"github.com/embgrad/embgrad/property"
)

func TestGradcheck(t *testing.T) { gradcheck.TestBag(t, bagsharded.Kernel{}) }

func TestProperty(t *testing.T) { property.TestBag(t, bagsharded.Kernel{}) }

// With every case worth many workers, the suites still pass, and the
// kernel equals impl/bagloop bit for bit for 1…5 workers in every mode,
// accumulating and from scratch (BagScratch runs the kernel's own
// BagBackwardScratch, and clears then calls BagBackward for bagloop).
func TestManyWorkers(t *testing.T) {
	for _, par := range []bool{false, true} {
		t.Run(map[bool]string{false: "serial-plan", true: "parallel-plan"}[par], func(t *testing.T) {
			defer bagsharded.SetParallelPlan(par)()
			testManyWorkers(t)
		})
	}
}

func testManyWorkers(t *testing.T) {
	defer bagsharded.SetMinWork(1)()
	t.Run("gradcheck", func(t *testing.T) { gradcheck.TestBag(t, bagsharded.Kernel{}.WithBagWorkers(3)) })
	for i, mode := range []embgrad.BagMode{embgrad.BagSum, embgrad.BagMean, embgrad.BagMax, embgrad.BagSum, embgrad.BagMean, embgrad.BagSum, embgrad.BagMean} {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		s := suite.BagSpec{V: 300, D: 33, B: 64, MaxL: 40, Rows: 100, Mode: mode, Pad: true, Empty: true, Last: i%2 == 0,
			Scale: mode != embgrad.BagMax && i > 2, Weights: i == 3 || i == 5, Kind: suite.Normal}
		if i >= 5 {
			// A table past 2¹¹ rows, so the sort's buckets span several
			// rows, and few rows, so some buckets take the counting sort.
			s.V, s.D, s.MaxL, s.Rows = 1<<15+3, 9, 200, 40
		}
		c := suite.NewBagCase(rng, s)
		start := suite.Fill(rng, s.V*s.D, suite.Normal)
		for _, scratch := range []bool{false, true} {
			run := func(k embgrad.BagKernel) ([]float32, []float32) {
				dst := slices.Clone(start)
				dw := make([]float32, len(c.A.IDs))
				for i := range dw {
					dw[i] = float32(i) // every entry must be written
				}
				if c.A.Weights == nil {
					dw = nil
				}
				var err error
				if scratch {
					err = embgrad.BagScratch(k, dst, dw, c.A)
				} else {
					err = k.BagBackward(dst, dw, c.A)
				}
				if err != nil {
					t.Fatal(err)
				}
				return dst, dw
			}
			wantD, wantW := run(bagloop.Kernel{})
			for w := 1; w <= 5; w++ {
				d, dw := run(bagsharded.Kernel{}.WithBagWorkers(w))
				if e := suite.FirstDiff(d, wantD); e >= 0 {
					t.Errorf("%v scratch=%v workers=%d: dst[%d] = %v, bagloop %v", c, scratch, w, e, d[e], wantD[e])
				}
				if e := suite.FirstDiff(dw, wantW); e >= 0 {
					t.Errorf("%v scratch=%v workers=%d: dw[%d] = %v, bagloop %v", c, scratch, w, e, dw[e], wantW[e])
				}
			}
		}
	}
}

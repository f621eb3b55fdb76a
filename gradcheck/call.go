package gradcheck

import (
	"fmt"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// call runs k on c with dst starting as start (Backward, or embgrad.Scratch
// when scratch) through the suite's guarded call and returns the output.
func call(k embgrad.Kernel, c *tcase, start []float32, scratch bool) ([]float32, error) {
	f := suite.BackwardFunc(k.Backward)
	if scratch {
		f = func(dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options) error {
			return embgrad.Scratch(k, dst, V, D, ids, g, opt)
		}
	}
	dst, err := suite.Backward(f, start, c.V, c.D, c.ids, c.g, c.opt)
	if err != nil {
		return nil, suite.Accepted(err)
	}
	return dst, nil
}

// verify runs k on c from start and compares the output with the float64
// oracle (from a zero dst when scratch) within reference's bound: rows that
// receive nothing bit-for-bit unchanged.
func verify(k embgrad.Kernel, c *tcase, start []float32, scratch bool) error {
	_, _, err := verified(k, c, start, scratch)
	return err
}

// verified is verify returning the output and the oracle's answer too.
func verified(k embgrad.Kernel, c *tcase, start []float32, scratch bool) ([]float32, *reference.Result, error) {
	base := start
	if scratch {
		base = make([]float32, len(start))
	}
	want, err := reference.Oracle(base, c.V, c.D, c.ids, c.g, c.opt)
	if err != nil {
		return nil, nil, fmt.Errorf("gradcheck bug: the oracle rejected the case: %v", err)
	}
	got, err := call(k, c, start, scratch)
	if err != nil {
		return nil, nil, err
	}
	return got, want, want.Check(got)
}

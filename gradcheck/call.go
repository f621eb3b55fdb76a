package gradcheck

import (
	"errors"
	"fmt"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// Every buffer a kernel sees is a window into a larger one between guard
// bands (suite.Guarded); ids' bands hold guardID.
const (
	guardID    = -0x5afe
	maxDetails = 4 // failing cases reported in full per check; the rest are counted
)

func guardedIDs(x []int32) (buf, win []int32) {
	buf = make([]int32, len(x)+2*suite.GuardLen)
	for k := range buf {
		buf[k] = guardID
	}
	copy(buf[suite.GuardLen:], x)
	return buf, buf[suite.GuardLen : suite.GuardLen+len(x)]
}

// call runs k on c with dst starting as start (Backward, or embgrad.Scratch
// when scratch) and returns the output. A panic, an error, a write outside
// dst, or any change to ids or gradOut is returned as an error.
func call(k embgrad.Kernel, c *tcase, start []float32, scratch bool) ([]float32, error) {
	dbuf, dst := suite.Guarded(start)
	gbuf, g := suite.Guarded(c.g)
	ibuf, ids := guardedIDs(c.ids)
	gwant, iwant := slices.Clone(gbuf), slices.Clone(ibuf)
	if err := invoke(k, dst, c.V, c.D, ids, g, c.opt, scratch); err != nil {
		return nil, err
	}
	return dst, errors.Join(wroteOutside(dbuf, len(dst)), modified("gradOut", gbuf, gwant), modifiedIDs(ibuf, iwant))
}

// wroteOutside returns an error if the kernel changed buf's guard bands,
// buf from suite.Guarded of n elements.
func wroteOutside(buf []float32, n int) error {
	if i, ok := suite.Stray(buf, n); ok {
		return fmt.Errorf("wrote outside dst: dst[%d] (len %d) = %v", i, n, buf[suite.GuardLen+i])
	}
	return nil
}

// modified returns an error for the first element of buf, a guarded input
// named name, that differs from was, its copy before the call.
func modified(name string, buf, was []float32) error {
	if i := suite.FirstDiff(buf, was); i >= 0 {
		return fmt.Errorf("modified %s: element %d (len %d) was %v, now %v", name, i-suite.GuardLen, len(buf)-2*suite.GuardLen, was[i], buf[i])
	}
	return nil
}

// modifiedIDs is modified for guarded ids.
func modifiedIDs(buf, was []int32) error {
	for i := range buf {
		if buf[i] != was[i] {
			return fmt.Errorf("modified ids: ids[%d] (len %d) was %d, now %d", i-suite.GuardLen, len(buf)-2*suite.GuardLen, was[i], buf[i])
		}
	}
	return nil
}

// invoke makes the call, turning a panic into an error.
func invoke(k embgrad.Kernel, dst []float32, V, D int, ids []int32, g []float32, opt embgrad.Options, scratch bool) error {
	err := protect(func() error {
		if scratch {
			return embgrad.Scratch(k, dst, V, D, ids, g, opt)
		}
		return k.Backward(dst, V, D, ids, g, opt)
	})
	if err != nil && !errors.Is(err, errPanicked) {
		return fmt.Errorf("kernel rejected valid input: %w", err)
	}
	return err
}

// errPanicked marks a kernel's panic that protect turned into an error.
var errPanicked = errors.New("kernel panicked")

// protect runs f, turning a panic into an error wrapping errPanicked.
func protect(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanicked, p)
		}
	}()
	return f()
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

// report collects one check's failures, each naming the subject (the
// kernel, or the oracle), the case and the seed with how to reproduce it.
type report struct {
	subject string
	seed    uint64
	errs    []error
	more    int
}

func (r *report) fail(c fmt.Stringer, err error) {
	if err == nil {
		return
	}
	if len(r.errs) == maxDetails {
		r.more++
		return
	}
	r.errs = append(r.errs, fmt.Errorf("%s: %v: %w [seed %d: reproduce with -embgrad.seed=%d or EMBGRAD_SEED=%d]",
		r.subject, c, err, r.seed, r.seed, r.seed))
}

func (r *report) err() error {
	if r.more > 0 {
		return errors.Join(append(r.errs, fmt.Errorf("%s: and %d more failing case(s)", r.subject, r.more))...)
	}
	return errors.Join(r.errs...)
}

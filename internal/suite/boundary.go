package suite

import (
	"errors"
	"slices"
)

// Aliasing names what a check of overlapping buffers needs to observe: that
// buffers laid over one another reach the kernel as one memory. It is a
// kind of observation like StrayWrite and ChangedInput, not a Violation.
const Aliasing = "alias"

// Boundary is implemented by kernels whose calls cross into memory that
// Call cannot watch — a kernel in another process gets copies of the
// buffers, so a stray write, a changed input or two aliased buffers there
// never reach this process. Unobservable returns those kinds (StrayWrite,
// ChangedInput, Aliasing) and why, in a few words.
//
// The interface is on the kernel value of any form (Kernel, TiedKernel,
// SparseKernel, …): a check built for a kernel declares, with Needs, the
// kinds it exists to observe, and is then reported not applicable for such
// a kernel instead of passing without having looked. Checks that observe
// these kinds only on the side (every guarded call does) still run: their
// values are compared as usual.
type Boundary interface {
	Unobservable() (kinds []string, why string)
}

// ErrUnavailable is wrapped by the failure of a call that never reached
// the kernel (a kernel process given up after failing too often): the case
// is no counterexample, so ForAll does not shrink it.
var ErrUnavailable = errors.New("kernel unavailable")

// NotApplicable is the error a check's Run returns when the check cannot
// observe what it is for on its kernel. Run records it as
// Result.NotApplicable, not as a failure; a caller that runs a Check
// itself sees a non-nil error, never a silent pass.
type NotApplicable struct {
	Why string
}

func (e *NotApplicable) Error() string { return "not applicable: " + e.Why }

// Needs returns c, which exists to observe kinds (StrayWrite, ChangedInput,
// Aliasing) on kernel k, marked not applicable when k is a Boundary that
// cannot show one of them.
func Needs(c Check, k any, kinds ...string) Check {
	b, ok := k.(Boundary)
	if !ok {
		return c
	}
	un, why := b.Unobservable()
	for _, kind := range kinds {
		if slices.Contains(un, kind) {
			na := &NotApplicable{Why: kindWords[kind] + " " + why}
			c.Run = func(Config) error { return na }
			return c
		}
	}
	return c
}

var kindWords = map[string]string{
	StrayWrite:   "writes outside the output cannot be observed:",
	ChangedInput: "changes to inputs cannot be observed:",
	Aliasing:     "overlapping buffers cannot be handed over:",
}

// notApplicable returns the reason err gives for a check not applicable,
// or "".
func notApplicable(err error) string {
	var na *NotApplicable
	if errors.As(err, &na) {
		return na.Why
	}
	return ""
}

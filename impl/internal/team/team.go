// Package team runs the parallel loops of the embedding kernels on
// persistent helper goroutines that spin for a while before they sleep, as
// OpenMP runtimes do (libgomp's GOMP_SPINCOUNT, Intel's KMP_BLOCKTIME).
//
// Why not a fresh goroutine per loop: starting one is cheap, but when the
// other CPUs are idle the goroutine waits for the Go runtime to wake a
// sleeping thread, which can take a sizeable fraction of a GPT-2 backward
// call, while a helper that is still spinning joins at once (BenchmarkWake;
// the figures are in results/sharded/SCALING.md and wake.benchstat).
//
// So a kernel calls Start as early as it can — before its serial planning,
// which then hides a sleeping helper's wake-up — runs one or more loops with
// Run, and calls Stop. Between calls, a helper spins for SpinFor, yielding
// to other goroutines on every turn, and then sleeps until a Start needs it.
//
// Which goroutine runs which part never changes what a part computes: the
// kernels make their results independent of the team.
//
// It sits under impl/internal because only kernels use it: Go's internal
// rule then keeps the suites, the benchmarks and the CLI, which must judge
// kernels without depending on their parts, from importing it.
package team

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSpin is how long an idle helper spins, waiting for the next
// Start, before it sleeps, unless EMBGRAD_SPIN says otherwise. It is about
// the wake-up cost BenchmarkWake measures (results/sharded): spinning as long
// as a wake-up costs is at most twice as wasteful as the best choice made
// with hindsight, whatever the gap between calls.
const DefaultSpin = 200 * time.Microsecond

// SpinFor is the spin in use: DefaultSpin, or the Go duration in the
// environment variable EMBGRAD_SPIN (read once, at program start), as
// OMP_WAIT_POLICY and KMP_BLOCKTIME set it for OpenMP. A longer spin keeps
// helpers awake across longer gaps between calls, so they join at once
// instead of after a wake-up (BenchmarkWake), at the cost of a busy CPU in
// those gaps. "0" never spins. An unreadable value keeps the default, with
// a warning on stderr.
var SpinFor = spinFromEnv(os.Getenv("EMBGRAD_SPIN"), os.Stderr)

// spinFromEnv parses v as EMBGRAD_SPIN: empty means DefaultSpin; otherwise a
// non-negative Go duration. On a bad value it warns on w and returns
// DefaultSpin.
func spinFromEnv(v string, w io.Writer) time.Duration {
	if v == "" {
		return DefaultSpin
	}
	d, err := time.ParseDuration(v)
	if err == nil && d < 0 {
		err = errors.New("negative")
	}
	if err != nil {
		fmt.Fprintf(w, "embgrad: EMBGRAD_SPIN=%q is not a duration ≥ 0 such as 200us or 5ms (%v); using %v\n", v, err, DefaultSpin)
		return DefaultSpin
	}
	return d
}

// maxHelpers bounds the helpers alive at once. Helpers are only made when
// a Start finds none idle; past the bound, a team runs with fewer helpers,
// which changes its speed but not its results.
var maxHelpers = 4 * runtime.GOMAXPROCS(0)

// Team is the caller's goroutine and the helpers that Start gave it. Its
// methods must not be called concurrently with each other.
type Team struct {
	helpers []*helper
	job     atomic.Pointer[job] // the latest loop; helpers run each new one
	stopped atomic.Bool
}

// job is one Run: parts claimed in order from next, finished counted in
// done. A helper that sees a job late finds no part left and leaves it.
type job struct {
	f     func(p int)
	parts int64
	next  atomic.Int64
	done  atomic.Int64
}

// work claims and runs parts until none is left.
func (j *job) work() {
	for p := j.next.Add(1) - 1; p < j.parts; p = j.next.Add(1) - 1 {
		j.f(int(p))
		j.done.Add(1)
	}
}

// helper is a persistent goroutine. It receives teams on assign, a slot of
// one: a helper is on the idle list at most once, and Start never waits for
// the slot to empty.
type helper struct {
	assign chan *Team
}

var (
	mu      sync.Mutex
	idle    []*helper // helpers waiting for a team
	helpers int       // helpers alive
)

// Start returns a team of at most n goroutines, the caller's among them,
// and sets its helpers running. n < 1 counts as 1.
func Start(n int) *Team {
	t := new(Team)
	if n <= 1 {
		return t
	}
	want := n - 1
	mu.Lock()
	// The most recently stopped first (they are still spinning), passing
	// over any whose slot still holds its last team: that one has not run
	// since, so it would not join soon. Only its own goroutine empties a
	// slot, and only Start fills one, so the check cannot go stale.
	for i := len(idle) - 1; i >= 0 && len(t.helpers) < want; i-- {
		if h := idle[i]; len(h.assign) == 0 {
			t.helpers = append(t.helpers, h)
			idle = append(idle[:i], idle[i+1:]...)
		}
	}
	for len(t.helpers) < want && helpers < maxHelpers {
		h := &helper{assign: make(chan *Team, 1)}
		helpers++
		t.helpers = append(t.helpers, h)
		go h.loop()
	}
	mu.Unlock()
	for _, h := range t.helpers {
		h.assign <- t // never waits: the slot was empty, and only h empties it
	}
	return t
}

// Run calls f(0), …, f(parts−1), each once, on the team, and returns when
// all have returned. The caller runs parts too, so Run finishes even if no
// helper ever gets a CPU.
func (t *Team) Run(parts int, f func(p int)) {
	if parts <= 0 {
		return
	}
	j := &job{f: f, parts: int64(parts)}
	if len(t.helpers) > 0 {
		t.job.Store(j)
	}
	j.work()
	for j.done.Load() < j.parts {
		// A helper is finishing its last part: at most one part's time.
		runtime.Gosched()
	}
}

// Stop releases the helpers. The team must not be used after.
//
// Stop puts the helpers back on the idle list itself, the most recently
// used last, so that the next Start takes a helper that is still spinning:
// were each helper to do it once it sees the stop, a Start right after
// would find only helpers that had slept.
func (t *Team) Stop() {
	t.stopped.Store(true)
	if len(t.helpers) == 0 {
		return
	}
	mu.Lock()
	idle = append(idle, t.helpers...)
	mu.Unlock()
}

// loop is a helper's life: wait for a team, spinning for SpinFor and then
// sleeping; run the team's loops until it stops. A Start may hand h its next
// team before h sees the stop; it waits in h.assign.
func (h *helper) loop() {
	for {
		t := h.wait()
		var last *job
		for !t.stopped.Load() {
			if j := t.job.Load(); j != last && j != nil {
				last = j
				j.work()
				continue
			}
			runtime.Gosched()
		}
	}
}

// wait returns the next team handed to h.
func (h *helper) wait() *Team {
	deadline := time.Now().Add(SpinFor)
	for time.Now().Before(deadline) {
		select {
		case t := <-h.assign:
			return t
		default:
			runtime.Gosched()
		}
	}
	return <-h.assign
}

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
// On a shared machine the OS may deschedule a helper in the middle of a
// part. Run then never waits for helpers that have not claimed a part, and
// a caller left waiting for a claimed one parks after a short spin instead
// of spinning on: its CPU is what the helper needs to finish. A Run that had
// to park also stops idle helpers from spinning for a while (backoff), so
// that on a machine with no free CPU they sleep rather than take time
// slices from the caller. And a Run held much longer than its parts take
// (a helper lost its CPU mid-part, and on an oversubscribed machine the
// caller's freed CPU may go to another program) makes the next teams the
// caller alone for a spell that doubles while it keeps happening
// (serialUntil): then a call costs what one worker costs, not a time slice.
// So does a Run of a millisecond or more during which the process got
// little more than one CPU (its CPU clock, on Linux): on a saturated
// machine a process's share can be fixed (the kernel's autogroups), and a
// helper then adds overhead but no CPU. BenchmarkBackward and BenchmarkTiedWorkers run
// beside a CPU hog with -embgrad.hog=1 (bench) to show the effect.
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
	wake    chan struct{} // for the caller's park in Run; made on first need
}

// job is one Run: parts claimed in order from next, finished counted in
// done. A helper that sees a job late finds no part left and leaves it.
//
// When the caller has run out of parts to claim but a helper still holds
// one, the caller spins a little (about as long as its own parts took) and
// then parks: set waiting, and block on wake until the helper that
// finishes the last part swaps waiting back and sends a token. Parking
// matters under load: a helper that the OS has descheduled in the middle of
// a part can only finish it once a CPU is free, and a caller spinning on
// its own CPU keeps that CPU busy (runtime.Gosched yields to goroutines, not
// to other threads), so the call would last until the OS's next time slice
// for the helper (milliseconds) instead of the rest of one small part.
type job struct {
	f       func(p int)
	parts   int64
	next    atomic.Int64
	done    atomic.Int64
	waiting atomic.Bool   // the caller is parked, or about to park, on wake
	wake    chan struct{} // the team's; a token per park
}

// work claims and runs parts until none is left, and returns how many it
// ran.
func (j *job) work() (ran int) {
	for p := j.next.Add(1) - 1; p < j.parts; p = j.next.Add(1) - 1 {
		j.f(int(p))
		ran++
		// Only a swap from true sends, and the caller receives exactly
		// once after it set waiting: no token is ever left behind.
		if j.done.Add(1) == j.parts && j.waiting.Swap(false) {
			j.wake <- struct{}{}
		}
	}
	return ran
}

// helper is a persistent goroutine. It receives teams on assign, a slot of
// one: a helper is on the idle list at most once, and Start never waits for
// the slot to empty. Inside a team it spins for SpinFor after each loop,
// waiting for the next Run or the Stop, and then parks on wake; Run and
// Stop send a token to a parked helper (the same swap protocol as a job's
// waiting and wake).
type helper struct {
	assign chan *Team
	parked atomic.Bool
	wake   chan struct{}
}

// unpark wakes h if it is parked.
func (h *helper) unpark() {
	if h.parked.Swap(false) {
		h.wake <- struct{}{}
	}
}

var (
	mu      sync.Mutex
	idle    []*helper // helpers waiting for a team
	helpers int       // helpers alive
)

// Start returns a team of at most n goroutines, the caller's among them,
// and sets its helpers running. n < 1 counts as 1. Shortly after a Run was
// held hostage by a descheduled helper, the team is the caller alone (see
// serialUntil).
func Start(n int) *Team {
	t := new(Team)
	if n <= 1 || serial() {
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
		h := &helper{assign: make(chan *Team, 1), wake: make(chan struct{}, 1)}
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
// helper ever gets a CPU, and it never waits for a helper that has not
// claimed a part: a late or descheduled helper costs the call at most the
// rest of the one part it holds, provided the OS runs it once the caller
// parks. Kernels therefore cut a job into many small parts.
func (t *Team) Run(parts int, f func(p int)) {
	if parts <= 0 {
		return
	}
	if len(t.helpers) == 0 {
		for p := range parts {
			f(p)
		}
		return
	}
	cpu0 := processCPU()
	start := time.Now()
	held := t.run(parts, f, start)
	wall := time.Since(start)
	switch {
	case held:
		hostage()
	case wall >= minCPUCheck && cpu0 >= 0 &&
		float64(processCPU()-cpu0) < (1+cpuGain*float64(min(len(t.helpers), runtime.GOMAXPROCS(0)-1)))*float64(wall):
		// The team's goroutines got little more than one CPU between
		// them: on a saturated machine (where a process's share is
		// fixed, e.g. by the kernel's autogroups) a helper adds no CPU,
		// only overhead. Run alone for a spell, as after a hostage.
		hostage()
	default:
		recovered()
	}
}

// minCPUCheck is the shortest Run whose CPU time is judged (the process
// CPU clock costs a system call), and cpuGain the least CPU, per helper,
// that a Run must have gained over the caller alone: below
// 1 + cpuGain·helpers CPUs on average (helpers counted up to
// GOMAXPROCS − 1) the helpers did not pay.
const (
	minCPUCheck = time.Millisecond
	cpuGain     = 0.25
)

// run is Run with helpers; it reports whether the caller was held hostage.
func (t *Team) run(parts int, f func(p int), start time.Time) (held bool) {
	if t.wake == nil {
		t.wake = make(chan struct{}, 1)
	}
	j := &job{f: f, parts: int64(parts), wake: t.wake}
	t.job.Store(j)
	for _, h := range t.helpers {
		h.unpark()
	}
	ran := j.work()
	if j.done.Load() == j.parts {
		return false
	}
	// A helper is finishing a part. Spin about as long as a part takes
	// (the caller's own mean, within [minWait, maxWait]): a running
	// helper finishes within that; one that takes longer is most likely
	// descheduled, and needs this CPU.
	mean := maxWait
	if ran > 0 {
		mean = time.Since(start) / time.Duration(ran)
	}
	wait := min(max(mean, minWait), maxWait)
	t0 := time.Now()
	for time.Since(t0) < wait {
		if j.done.Load() == j.parts {
			return false
		}
		runtime.Gosched()
	}
	// Parking means a helper was slow to finish: most likely the OS
	// descheduled it, so the machine has fewer free CPUs than the team
	// has goroutines. Helpers stop spinning for a while (see spin).
	contended.Store(time.Now().Add(backoff).UnixNano())
	j.waiting.Store(true)
	if j.done.Load() != j.parts || !j.waiting.Swap(false) {
		<-j.wake // else it finished before it saw waiting: no token was sent
	}
	return time.Since(t0) > max(2*mean, hostageMin)
}

// A Run whose caller waited more than hostageMin, and more than two of its
// own parts' mean time, for a helper to finish its part was held hostage: a
// helper lost its CPU in the middle of a part and got it back only later —
// on a machine with more runnable threads than CPUs, that is the OS's time
// slice, milliseconds, and parking the caller does not help, since the
// freed CPU may go to another program. Then Start gives teams no helpers
// (the caller alone runs every part, at one worker's speed, with the same
// results) until serialUntil, for serialFor: from minSerial, doubled at
// each hostage in a row up to maxSerial, and back to minSerial after a Run
// with helpers that was not held. A call with helpers now and then probes
// whether CPUs are free again, so a long quiet spell costs at most one slow
// call per maxSerial.
var serialUntil, serialFor atomic.Int64

const (
	hostageMin = 200 * time.Microsecond
	minSerial  = 10 * time.Millisecond
	maxSerial  = time.Second
)

func hostage() {
	d := time.Duration(serialFor.Load())
	d = min(max(2*d, minSerial), maxSerial)
	serialFor.Store(int64(d))
	serialUntil.Store(time.Now().Add(d).UnixNano())
}

func recovered() {
	if serialFor.Load() != 0 {
		serialFor.Store(0)
	}
}

// serial reports whether Start gives no helpers now.
func serial() bool { return time.Now().UnixNano() < serialUntil.Load() }

// contended is the time (Unix ns) until which helpers do not spin, set
// whenever a Run had to park its caller. A spinning helper on a machine
// without a free CPU takes time slices from the caller, from the other
// helpers and from other programs; on a machine that has one, it is what
// lets it join a Run at once. backoff is long against a call (GPT-2's
// backward: about a millisecond) so that a loaded machine's calls mostly
// run with parked helpers, and short against a change of load.
var contended atomic.Int64

const backoff = 20 * time.Millisecond

// spin is how long an idle helper spins now: SpinFor, or nothing while
// runs are contended.
func spin() time.Duration {
	if time.Now().UnixNano() < contended.Load() {
		return 0
	}
	return SpinFor
}

// minWait and maxWait bound the caller's spin in Run before it parks.
const (
	minWait = 2 * time.Microsecond
	maxWait = 50 * time.Microsecond
)

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
	for _, h := range t.helpers {
		h.unpark()
	}
	mu.Lock()
	idle = append(idle, t.helpers...)
	mu.Unlock()
}

// loop is a helper's life: wait for a team, spinning for SpinFor and then
// sleeping; run the team's loops until it stops, spinning for SpinFor after
// each and then parking until the next Run or the Stop. A Start may hand h
// its next team before h sees the stop; it waits in h.assign.
func (h *helper) loop() {
	for {
		t := h.wait()
		var last *job
		idle := time.Now()
		for !t.stopped.Load() {
			if j := t.job.Load(); j != last && j != nil {
				last = j
				j.work()
				idle = time.Now()
				continue
			}
			if time.Since(idle) < spin() {
				runtime.Gosched()
				continue
			}
			h.parked.Store(true)
			if t.stopped.Load() || t.job.Load() != last {
				if !h.parked.Swap(false) {
					<-h.wake // a Run or Stop swapped first: its token is due
				}
				continue
			}
			<-h.wake
			idle = time.Now()
		}
	}
}

// wait returns the next team handed to h.
func (h *helper) wait() *Team {
	for start := time.Now(); time.Since(start) < spin(); {
		select {
		case t := <-h.assign:
			return t
		default:
			runtime.Gosched()
		}
	}
	return <-h.assign
}

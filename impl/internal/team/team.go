// Package team runs the parallel loops of the embedding kernels on
// persistent helper goroutines that spin for a while before they sleep, as
// OpenMP runtimes do (libgomp's GOMP_SPINCOUNT, Intel's KMP_BLOCKTIME).
//
// Why not a fresh goroutine per loop: starting one is cheap, but when the
// other CPUs are idle the goroutine waits for the Go runtime to wake a
// sleeping thread, and on a virtual machine waking an idle vCPU can take
// from tens of microseconds to milliseconds — a sizeable fraction of a
// GPT-2 backward call — while a helper that is still spinning joins within
// microseconds (BenchmarkWake; results/sharded/SCALING.md, results/load).
//
// So a kernel calls Start as early as it can — before its serial planning,
// which then hides a sleeping helper's wake-up — runs one or more loops with
// Run, and calls Stop. Inside a team a helper spins between loops (up to
// TeamSpin, so that the kernel's planning does not put it to sleep); after
// Stop it spins for SpinFor, yielding to other goroutines on every turn,
// and then sleeps until a Start needs it.
//
// On a shared machine (a CI runner, a laptop) the OS deschedules threads,
// and spinning then takes CPU from the caller. Three rules keep a team from
// becoming slower than the caller alone:
//
//   - Run never waits for a helper that has not claimed a part: the caller
//     runs parts too, so a late helper costs at most the part it holds.
//   - A caller left waiting for a claimed part spins about two of its own
//     parts' time and then parks, so that its CPU is free for the helper.
//   - A Run that shows contention starts a serial spell: Start gives no
//     helpers, and helpers do not spin, until it ends. Contention is a Run
//     whose caller was held waiting much longer than its parts take (a
//     helper lost its CPU mid-part), or one that a spinning helper joined
//     late: a helper that was spinning on a free CPU sees a new loop within
//     microseconds, so a join after lateJoin means the helper's thread was
//     not running. Spells grow fourfold while contention recurs, up to maxSerial,
//     and start again from minSerial after several clean Runs; so on a
//     loaded machine a call costs what one worker costs, and a probe with
//     helpers once per spell notices when CPUs are free again.
//
// (An earlier rule judged a Run by the process CPU clock: Linux adds a
// running thread's time to it only at scheduler ticks and switches, so over
// a Run of a few milliseconds a busy helper often shows no CPU at all, and
// the rule sent quiet machines into serial spells; results/load.)
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

// TeamSpin is the least time a helper inside a team spins between loops
// before it parks (SpinFor, if longer): about a kernel's serial planning
// between Start and its first Run, or between two Runs, so that the helper
// is still spinning when the loop comes. EMBGRAD_SPIN=0 turns this spin off
// too.
const TeamSpin = 2 * time.Millisecond

// Team is the caller's goroutine and the helpers that Start gave it. Its
// methods must not be called concurrently with each other.
type Team struct {
	helpers []*helper
	job     atomic.Pointer[job] // the latest loop; helpers run each new one
	stopped atomic.Bool
	wake    chan struct{} // for the caller's park in Run; made on first need
	// woke is set when Start or Run had to wake a sleeping or parked
	// helper: its join then says how fast the OS wakes a thread, not
	// whether CPUs are free, so that Run is not judged by it.
	woke bool
}

// job is one Run: parts claimed in order from next, finished counted in
// done. A helper that sees a job late finds no part left and leaves it.
//
// When the caller has run out of parts to claim but a helper still holds
// one, the caller spins a little (about two of its own parts' time) and
// then parks: set waiting, and block on wake until the helper that
// finishes the last part swaps waiting back and sends a token. Parking
// matters under load: a helper that the OS has descheduled in the middle of
// a part can only finish it once a CPU is free, and a caller spinning on
// its own CPU keeps that CPU busy (runtime.Gosched yields to goroutines, not
// to other threads).
type job struct {
	f       func(p int)
	parts   int64
	posted  time.Time
	seen    atomic.Int64 // ns after posted when a helper first saw the job; 0: none yet
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
// the slot to empty. Inside a team it spins after each loop, waiting for
// the next Run or the Stop, and then parks on wake; Run and Stop send a
// token to a parked helper (the same swap protocol as a job's waiting and
// wake). asleep is set while it blocks on assign.
type helper struct {
	assign chan *Team
	parked atomic.Bool
	asleep atomic.Bool
	wake   chan struct{}
}

// unpark wakes h if it is parked, and reports whether it was.
func (h *helper) unpark() bool {
	if h.parked.Swap(false) {
		h.wake <- struct{}{}
		return true
	}
	return false
}

var (
	mu      sync.Mutex
	idle    []*helper // helpers waiting for a team
	helpers int       // helpers alive
)

// Start returns a team of at most n goroutines, the caller's among them,
// and sets its helpers running. n < 1 counts as 1. During a serial spell
// (see serialUntil) the team is the caller alone.
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
		t.woke = true // a new goroutine needs a thread, as a sleeper does
		go h.loop()
	}
	mu.Unlock()
	for _, h := range t.helpers {
		if h.asleep.Load() {
			t.woke = true
		}
		h.assign <- t // never waits: the slot was empty, and only h empties it
	}
	return t
}

// Size is the number of goroutines in the team, the caller's among them:
// 1 during a serial spell. Kernels cut their work for it: cutting a job for
// workers the team does not have costs the caller alone (sharded, Zipf ids:
// +23 % at two parts, +31 % at four; results/sharded/split.benchstat).
func (t *Team) Size() int { return 1 + len(t.helpers) }

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
	if t.wake == nil {
		t.wake = make(chan struct{}, 1)
	}
	j := &job{f: f, parts: int64(parts), wake: t.wake, posted: time.Now()}
	t.job.Store(j)
	for _, h := range t.helpers {
		if h.unpark() {
			t.woke = true
		}
	}
	held := t.finish(j)
	if contended(held, t.woke, time.Since(j.posted), time.Duration(j.seen.Load())) {
		contention()
	} else {
		clean()
	}
	t.woke = false // the helpers are awake now; the next Run is judged
}

// contended reports whether a Run showed contention: its caller was held
// hostage, or a helper that did not have to be woken saw the loop only
// after lateJoin (seen; 0 if no helper saw it) of a Run that lasted wall,
// at least four times lateJoin.
func contended(held, woke bool, wall, seen time.Duration) bool {
	late := !woke && wall >= 4*lateJoin && (seen == 0 || seen > lateJoin)
	return held || late
}

// finish runs the caller's share of j and waits for the helpers' last
// parts; it reports whether the caller was held hostage: it waited more
// than hostageMin, and more than two of its own parts' mean time, for a
// helper to finish a part.
func (t *Team) finish(j *job) (held bool) {
	ran := j.work()
	if j.done.Load() == j.parts {
		return false
	}
	// A helper is finishing a part. Spin about two parts' time (the
	// caller's own mean, within [minWait, maxWait]): a running helper
	// finishes within that; one that takes longer is most likely
	// descheduled, and needs this CPU.
	mean := maxWait
	if ran > 0 {
		mean = time.Since(j.posted) / time.Duration(ran)
	}
	wait := min(max(2*mean, minWait), maxWait)
	t0 := time.Now()
	for time.Since(t0) < wait {
		if j.done.Load() == j.parts {
			return false
		}
		runtime.Gosched()
	}
	parks.Add(1)
	j.waiting.Store(true)
	if j.done.Load() != j.parts || !j.waiting.Swap(false) {
		<-j.wake // else it finished before it saw waiting: no token was sent
	}
	return time.Since(t0) > max(2*mean, hostageMin)
}

// parks counts the callers' parks in finish, for the tests.
var parks atomic.Int64

// minWait and maxWait bound the caller's spin in Run before it parks. On
// an idle virtual machine a parked thread's wake-up can cost more than a
// part, so the caller spins up to maxWait before it parks.
const (
	minWait = 2 * time.Microsecond
	maxWait = 500 * time.Microsecond
)

// lateJoin is the longest a spinning helper takes to see a new loop on a
// CPU of its own (microseconds: BenchmarkWake). A Run of at least four
// times that which a helper that had not to be woken saw later, or never,
// was run while the helper's thread waited for a CPU.
const lateJoin = 100 * time.Microsecond

// A Run that showed contention (see Run) starts a serial spell: until
// serialUntil, Start gives teams no helpers (the caller alone runs every
// part, at one worker's speed, with the same results) and idle helpers do
// not spin. The spell lasts serialFor: from minSerial, four times longer
// at each contended Run in a row up to maxSerial. After cleanRuns clean Runs with
// helpers in a row, spells start from minSerial again. So on a loaded
// machine one call per spell probes with helpers — at most one slow call
// per maxSerial once the load persists — and on a quiet one a rare
// contended Run (an interrupt, a GC) costs one short spell.
var serialUntil, serialFor, cleanInARow atomic.Int64

const (
	hostageMin = 200 * time.Microsecond
	minSerial  = 50 * time.Millisecond
	maxSerial  = time.Second
	cleanRuns  = 8
)

func contention() {
	cleanInARow.Store(0)
	d := time.Duration(serialFor.Load())
	d = min(max(4*d, minSerial), maxSerial)
	serialFor.Store(int64(d))
	serialUntil.Store(time.Now().Add(d).UnixNano())
}

func clean() {
	if serialFor.Load() != 0 && cleanInARow.Add(1) >= cleanRuns {
		serialFor.Store(0)
		cleanInARow.Store(0)
	}
}

// serial reports whether a serial spell is on.
func serial() bool { return time.Now().UnixNano() < serialUntil.Load() }

// spin reports whether an idle helper that has been idle for d spins on:
// never during a serial spell (a spinning helper on a machine without a
// free CPU takes time slices from the caller and from other programs) nor
// with EMBGRAD_SPIN=0; otherwise for SpinFor outside a team, and for the
// longer of SpinFor and TeamSpin inside one.
func spin(d time.Duration, inTeam bool) bool {
	if SpinFor == 0 || serial() {
		return false
	}
	if inTeam {
		return d < max(SpinFor, TeamSpin)
	}
	return d < SpinFor
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
	for _, h := range t.helpers {
		h.unpark()
	}
	mu.Lock()
	idle = append(idle, t.helpers...)
	mu.Unlock()
}

// loop is a helper's life: wait for a team, spinning and then sleeping;
// run the team's loops until it stops, spinning after each (see spin) and
// then parking until the next Run or the Stop. A Start may hand h its next
// team before h sees the stop; it waits in h.assign.
func (h *helper) loop() {
	for {
		t := h.wait()
		var last *job
		idle := time.Now()
		for !t.stopped.Load() {
			if j := t.job.Load(); j != last && j != nil {
				last = j
				j.seen.CompareAndSwap(0, max(int64(time.Since(j.posted)), 1))
				j.work()
				idle = time.Now()
				continue
			}
			if spin(time.Since(idle), true) {
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
	for start := time.Now(); spin(time.Since(start), false); {
		select {
		case t := <-h.assign:
			return t
		default:
			runtime.Gosched()
		}
	}
	h.asleep.Store(true)
	t := <-h.assign
	h.asleep.Store(false)
	return t
}

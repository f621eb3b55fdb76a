package team

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunEachPartOnce checks that every part runs exactly once, for teams
// smaller and larger than GOMAXPROCS, over several loops per team, and that
// Run returns only after every part has returned.
func TestRunEachPartOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 8} {
		for _, parts := range []int{0, 1, 2, 7, 64} {
			tm := Start(n)
			for loop := range 5 {
				counts := make([]int32, parts)
				var finished atomic.Int64
				tm.Run(parts, func(p int) {
					if p%3 == 0 {
						runtime.Gosched() // let parts finish out of order
					}
					atomic.AddInt32(&counts[p], 1)
					finished.Add(1)
				})
				if got := finished.Load(); got != int64(parts) {
					t.Fatalf("n=%d parts=%d loop %d: Run returned after %d parts finished", n, parts, loop, got)
				}
				for p, c := range counts {
					if c != 1 {
						t.Fatalf("n=%d parts=%d loop %d: part %d ran %d times", n, parts, loop, p, c)
					}
				}
			}
			tm.Stop()
		}
	}
}

// TestConcurrentTeams runs teams from several goroutines at once (kernels
// are safe for concurrent use, so their teams must be) and checks every
// part ran once and the helpers stay bounded.
func TestConcurrentTeams(t *testing.T) {
	const callers, loops, parts = 6, 50, 16
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Go(func() {
			for l := range loops {
				tm := Start(3)
				var sum atomic.Int64
				tm.Run(parts, func(p int) { sum.Add(int64(p + 1)) })
				tm.Stop()
				if got, want := sum.Load(), int64(parts*(parts+1)/2); got != want {
					errs <- fmt.Errorf("caller %d loop %d: parts summed to %d, want %d", c, l, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if helpers > maxHelpers {
		t.Errorf("%d helpers alive, bound %d", helpers, maxHelpers)
	}
}

// TestHelpersParticipate checks that a team's helpers do run parts: a loop
// whose parts wait for each other finishes only if n goroutines run it.
func TestHelpersParticipate(t *testing.T) {
	const n = 3
	waitForHelpers(t, n-1)
	tm := Start(n)
	defer tm.Stop()
	var arrived atomic.Int64
	done := make(chan struct{})
	go func() {
		tm.Run(n, func(int) {
			arrived.Add(1)
			for arrived.Load() < n {
				runtime.Gosched()
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("only %d of %d goroutines ran the loop", arrived.Load(), n)
	}
}

// TestStartSkipsLateHelper checks that Start does not wait for a helper
// that has not yet taken its previous team (one still waking up): it leaves
// it out, keeps it idle, and the loop still runs.
func TestStartSkipsLateHelper(t *testing.T) {
	late := &helper{assign: make(chan *Team, 1)}
	late.assign <- new(Team) // a team it has not taken; no goroutine will
	mu.Lock()
	idle = append(idle, late)
	mu.Unlock()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for i, h := range idle {
			if h == late {
				idle = append(idle[:i], idle[i+1:]...)
				return
			}
		}
		t.Error("the late helper was dropped from the idle list")
	}()
	started := make(chan *Team)
	go func() { started <- Start(2) }()
	select {
	case tm := <-started:
		for _, h := range tm.helpers {
			if h == late {
				t.Fatal("Start put the late helper in the team")
			}
		}
		var n atomic.Int64
		tm.Run(4, func(int) { n.Add(1) })
		tm.Stop()
		if n.Load() != 4 {
			t.Fatalf("ran %d of 4 parts", n.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start blocked on a helper that had not taken its last team")
	}
}

// TestSpinFromEnv checks EMBGRAD_SPIN's parsing: durations are taken, and
// anything else keeps the default with a warning that names the variable.
func TestSpinFromEnv(t *testing.T) {
	for _, c := range []struct {
		v    string
		want time.Duration
		warn bool
	}{
		{"", DefaultSpin, false},
		{"5ms", 5 * time.Millisecond, false},
		{"0", 0, false},
		{"150us", 150 * time.Microsecond, false},
		{"-1ms", DefaultSpin, true},
		{"10", DefaultSpin, true}, // no unit
		{"fast", DefaultSpin, true},
	} {
		var w strings.Builder
		got := spinFromEnv(c.v, &w)
		if got != c.want {
			t.Errorf("EMBGRAD_SPIN=%q: %v, want %v", c.v, got, c.want)
		}
		if warned := strings.Contains(w.String(), "EMBGRAD_SPIN"); warned != c.warn {
			t.Errorf("EMBGRAD_SPIN=%q: warning %q, want one: %v", c.v, w.String(), c.warn)
		}
	}
}

// waitForHelpers waits until Start can give a team k helpers: Start leaves
// out a helper that has not yet taken its previous team.
//
// It also ends any serial spell (serialUntil), which an earlier test on a
// loaded machine may have started: the callers need a team with helpers.
func waitForHelpers(tb testing.TB, k int) {
	noSerial()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		free := maxHelpers - helpers
		for _, h := range idle {
			if len(h.assign) == 0 {
				free++
			}
		}
		mu.Unlock()
		if free >= k {
			return
		}
		if time.Since(start) > 10*time.Second {
			tb.Fatalf("%d helpers free after 10 s, want %d", free, k)
		}
	}
}

// busy keeps the calling goroutine's CPU busy for d.
func busy(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// BenchmarkWake measures how long a loop whose two parts wait for each
// other takes, that is how long a helper takes to join the caller:
//
//   - goroutine: a new goroutine per loop (what the kernels did before);
//   - parked: a helper that has slept (the caller was busy for 3·SpinFor,
//     as a training loop is between backward calls, and the other CPUs
//     idle);
//   - spinning: a helper still spinning from the previous call.
//
// Command: go test ./impl/internal/team -run '^$' -bench Wake -count 10
func BenchmarkWake(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS ≥ 2")
	}
	// The barrier does not yield: a kernel's caller is busy adding rows, so
	// a new goroutine waiting on its P's run queue must be taken by another.
	barrier := func(arrived *atomic.Int64) {
		arrived.Add(1)
		for arrived.Load() < 2 {
		}
	}
	b.Run("state=goroutine", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			busy(3 * SpinFor)
			b.StartTimer()
			var arrived atomic.Int64
			var wg sync.WaitGroup
			wg.Go(func() { barrier(&arrived) })
			barrier(&arrived)
			wg.Wait()
		}
	})
	for _, state := range []string{"parked", "spinning"} {
		b.Run("state="+state, func(b *testing.B) {
			waitForHelpers(b, 1)
			for range b.N {
				if state == "parked" {
					b.StopTimer()
					busy(3 * SpinFor)
					b.StartTimer()
				}
				var arrived atomic.Int64
				noSerial() // the parts need two goroutines
				tm := Start(2)
				tm.Run(2, func(int) { barrier(&arrived) })
				tm.Stop()
			}
		})
	}
}

// TestRunParksForSlowPart makes a part run by one goroutine outlast the
// caller's spin while another goroutine holds the other part (the two meet
// before either returns, so they run on different goroutines), so that
// whenever the caller holds the quick part it parks. It checks that Run
// still returns only once both parts have finished, each once, over many
// loops — the park and wake handshake must lose no token and leave none
// behind — and that the caller did park.
func TestRunParksForSlowPart(t *testing.T) {
	parks0 := parks.Load()
	defer noSerial()
	for _, n := range []int{2, 3} {
		serialUntil.Store(0)
		tm := Start(n)
		for loop := range 20 {
			var counts [2]atomic.Int32
			var finished atomic.Int64
			var met sync.WaitGroup
			met.Add(2)
			tm.Run(2, func(p int) {
				met.Done()
				met.Wait()
				if p == 1 {
					time.Sleep(hostageMin + time.Millisecond)
				}
				counts[p].Add(1)
				finished.Add(1)
			})
			if got := finished.Load(); got != 2 {
				t.Fatalf("n=%d loop %d: Run returned after %d of 2 parts", n, loop, got)
			}
			for p := range counts {
				if c := counts[p].Load(); c != 1 {
					t.Fatalf("n=%d loop %d: part %d ran %d times", n, loop, p, c)
				}
			}
			if len(tm.wake) != 0 {
				t.Fatalf("n=%d loop %d: a wake token was left behind", n, loop)
			}
		}
		tm.Stop()
	}
	if parks.Load() == parks0 {
		t.Error("the caller never parked, though a helper held a slow part in about half the loops")
	}
	// A helper held the caller for over a millisecond: Start now gives no
	// helpers, until serialUntil.
	if !serial() {
		t.Error("no serial spell after Runs held hostage for a millisecond")
	}
	if tm := Start(2); len(tm.helpers) != 0 {
		t.Errorf("Start(2) during a serial spell: %d helpers, want 0", len(tm.helpers))
	} else {
		tm.Stop()
	}
	serialUntil.Store(0)
	if tm := Start(2); len(tm.helpers) != 1 {
		t.Errorf("Start(2) after the serial spell: %d helpers, want 1", len(tm.helpers))
	} else {
		tm.Stop()
	}
}

// TestLateHelperGoesSerial: with one CPU for the process's goroutines
// (GOMAXPROCS 1), a spinning helper cannot see a Run until the caller
// yields, as a helper whose thread waits for a CPU cannot: Runs of
// milliseconds then start a serial spell, and during it Start gives no
// helpers.
func TestLateHelperGoesSerial(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	noSerial()
	defer noSerial()
	busy := func(int) {
		for t0 := time.Now(); time.Since(t0) < 300*time.Microsecond; {
		}
	}
	tm := Start(2)
	if len(tm.helpers) != 1 {
		t.Fatalf("Start(2) gave %d helpers", len(tm.helpers))
	}
	tm.Run(8, busy) // maybe not judged: the helper may have had to be woken
	tm.Run(8, busy)
	tm.Stop()
	if !serial() {
		t.Fatal("no serial spell after a Run that a spinning helper could not join")
	}
	if tm := Start(2); len(tm.helpers) != 0 {
		t.Errorf("Start(2) during a serial spell: %d helpers, want 0", len(tm.helpers))
	}
}

// TestContended checks the rule that judges a Run: held hostage, or a
// helper that needed no wake-up seeing it late (or never) in a Run long
// enough to tell; never judged on a woken helper or a short Run.
func TestContended(t *testing.T) {
	for _, c := range []struct {
		held, woke bool
		wall, seen time.Duration
		want       bool
	}{
		{false, false, 2 * time.Millisecond, 5 * time.Microsecond, false},
		{false, false, 2 * time.Millisecond, 2 * lateJoin, true},
		{false, false, 2 * time.Millisecond, 0, true},
		{false, true, 2 * time.Millisecond, time.Millisecond, false},
		{false, false, 2 * lateJoin, 0, false},
		{true, true, 2 * time.Millisecond, 5 * time.Microsecond, true},
	} {
		if got := contended(c.held, c.woke, c.wall, c.seen); got != c.want {
			t.Errorf("contended(held=%v, woke=%v, wall=%v, seen=%v) = %v, want %v", c.held, c.woke, c.wall, c.seen, got, c.want)
		}
	}
}

// TestSpellsGrowAndReset: spells grow fourfold while contention recurs, up to
// maxSerial, and restart from minSerial only after cleanRuns clean Runs.
func TestSpellsGrowAndReset(t *testing.T) {
	noSerial()
	defer noSerial()
	for i, want := range []time.Duration{minSerial, 4 * minSerial, 16 * minSerial} {
		contention()
		if got := time.Duration(serialFor.Load()); got != want {
			t.Fatalf("contention %d: spell %v, want %v", i+1, got, want)
		}
	}
	for range 20 {
		contention()
	}
	if got := time.Duration(serialFor.Load()); got != maxSerial {
		t.Fatalf("spell %v after many contentions, want %v", got, maxSerial)
	}
	for range cleanRuns - 1 {
		clean()
	}
	if serialFor.Load() == 0 {
		t.Fatalf("spells reset after %d clean Runs, want %d", cleanRuns-1, cleanRuns)
	}
	contention() // breaks the run of clean ones
	for range cleanRuns - 1 {
		clean()
	}
	if serialFor.Load() == 0 {
		t.Fatal("clean Runs counted across a contended one")
	}
	clean()
	if serialFor.Load() != 0 {
		t.Fatalf("spells not reset after %d clean Runs in a row", cleanRuns)
	}
}

// noSerial ends any serial spell, for tests whose parts need helpers.
func noSerial() {
	serialUntil.Store(0)
	serialFor.Store(0)
	cleanInARow.Store(0)
}

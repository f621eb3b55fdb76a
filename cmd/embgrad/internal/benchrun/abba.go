package benchrun

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Side is one of the two binaries of an interleaved run.
type Side struct {
	Label  string // OLD, NEW
	Desc   string // what was built, for messages
	Bin    Binary
	Config []Config // config lines of its result file
}

// ABBA runs the two sides' binaries interleaved count times in ABBA order
// (A B, B A, …: who goes first alternates, so a drift of the machine or an
// effect of running second hits both sides alike), each run with the same
// args, and writes each side's results to its path with Write.
func ABBA(ctx context.Context, stderr io.Writer, what string, sides [2]Side, args []string, count int, paths [2]string) error {
	var raw [2][]byte
	perRound := 0
	p := &Progress{W: stderr, What: "gate: " + what, Rounds: count, start: time.Now(),
		PerRound: func() (int, bool) { return perRound, perRound > 0 }}
	for round := 1; round <= count; round++ {
		order := []int{0, 1}
		if round%2 == 0 {
			order = []int{1, 0}
		}
		n := 0
		for _, i := range order {
			s := sides[i]
			out, got, err := s.Bin.Run(ctx, args, p.Result)
			if err != nil {
				return fmt.Errorf("%s: %s benchmarks (%s) failed in round %d: %v", what, s.Label, s.Desc, round, err)
			}
			if got == 0 {
				return fmt.Errorf("%s: %s benchmarks (%s): no benchmark matches\n%s", what, s.Label, s.Desc, Tail(out, 40))
			}
			raw[i] = append(raw[i], out...)
			n += got
		}
		perRound = n
		p.Round(round)
	}
	for i, s := range sides {
		if _, err := Write(paths[i], s.Config, raw[i]); err != nil {
			return fmt.Errorf("%s: %s results: %v", what, s.Label, err)
		}
	}
	return nil
}

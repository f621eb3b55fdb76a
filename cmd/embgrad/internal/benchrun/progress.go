package benchrun

import (
	"fmt"
	"io"
	"time"
)

// Progress prints progress with an ETA: a line per round, and between
// rounds at most one line every 15 seconds. The total is results per
// round times rounds; PerRound may grow once a round has counted them.
type Progress struct {
	W        io.Writer
	What     string // "bench", "gate: first round", ...
	Rounds   int
	PerRound func() (n int, exact bool)

	start      time.Time
	done       int
	lastPrint  time.Time
	roundsDone int
}

// Result counts one result.
func (p *Progress) Result() {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	p.done++
	if time.Since(p.lastPrint) >= 15*time.Second {
		p.print()
	}
}

// Round marks round r done.
func (p *Progress) Round(r int) {
	p.roundsDone = r
	p.print()
}

func (p *Progress) print() {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	p.lastPrint = time.Now()
	el := time.Since(p.start)
	per, exact := p.PerRound()
	total := per * p.Rounds
	eta := "unknown"
	if p.done > 0 && total >= p.done {
		eta = (time.Duration(float64(el) / float64(p.done) * float64(total-p.done))).Round(time.Second).String()
		if !exact {
			eta = "≥ " + eta
		}
	}
	fmt.Fprintf(p.W, "%s: round %d/%d, %d/%d results, %v elapsed, ETA %s\n",
		p.What, min(p.roundsDone+1, p.Rounds), p.Rounds, p.done, total, el.Round(time.Second), eta)
}

// Package normpar is a parallel gradnorm.Impl: per-row norms, total norms
// and clip_grad_norm_ of large gradients on impl/internal/team's helpers,
// at the memory roofline (a norm reads the table once; clipping reads it
// for the norm and then reads and writes it to scale).
//
// Its results are bit for bit gradnorm.Serial's, for every worker count:
// a row's norm is gradnorm.SumSquares of the row, whoever computes it; the
// total 2-norm is the sum of the per-chunk partials gradnorm.TotalNorm
// defines (gradnorm.ChunkLen elements each, tensor by tensor), each
// computed by one worker and added by the caller in chunk order; the +Inf
// norm is a maximum, which no order changes; scaling is per element. The
// parts handed to the team are fixed runs of chunks (or rows), independent
// of the worker count, so only who computes a part changes with it.
//
// It lives under impl/ because it uses impl/internal/team, which Go's
// internal rule keeps from the top-level gradnorm package.
package normpar

import (
	"math"
	"runtime"

	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/internal/team"
)

// Impl is the parallel implementation. The zero value uses GOMAXPROCS
// workers; WithWorkers sets another count.
type Impl struct {
	workers int // 0: runtime.GOMAXPROCS(0) at each call
	// minWork, if > 0, replaces defaultMinWork; tests set it to 1 so that
	// small cases take the parallel path too.
	minWork int
}

var _ gradnorm.Impl = Impl{}

const (
	// defaultMinWork is the element count below which a call runs on the
	// calling goroutine alone: waking helpers costs more than the pass.
	defaultMinWork = 1 << 16
	// chunksPerPart is how many gradnorm.ChunkLen chunks one team part
	// covers (1 MiB of float32): big enough that claiming a part costs
	// nothing next to reading it, small enough to balance two workers on
	// a shared machine.
	chunksPerPart = 16
)

// Name returns "parallel".
func (Impl) Name() string { return "parallel" }

// WithWorkers returns the implementation with n workers (n < 1 counts as 1).
func (k Impl) WithWorkers(n int) Impl {
	k.workers = max(n, 1)
	return k
}

func (k Impl) team(elems int) *team.Team {
	w := k.workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	mw := k.minWork
	if mw == 0 {
		mw = defaultMinWork
	}
	if elems < mw {
		w = 1
	}
	return team.Start(w)
}

// RowNorms implements gradnorm.Impl.
func (k Impl) RowNorms(dst []float64, g gradnorm.Grad) error {
	if err := gradnorm.ValidateRowNorms(dst, g); err != nil {
		return err
	}
	n := len(dst)
	D := g.D
	if D == 0 {
		clear(dst)
		return nil
	}
	rows := max(1, chunksPerPart*gradnorm.ChunkLen/D) // rows per part
	t := k.team(len(g.Values))
	defer t.Stop()
	t.Run((n+rows-1)/rows, func(p int) {
		lo, hi := p*rows, min((p+1)*rows, n)
		for r := lo; r < hi; r++ {
			dst[r] = math.Sqrt(gradnorm.SumSquares(g.Values[r*D : (r+1)*D]))
		}
	})
	return nil
}

// chunks lists every chunk of grads as (tensor, first element).
type chunk struct{ t, lo int }

func chunks(grads []gradnorm.Grad) ([]chunk, int) {
	var cs []chunk
	n := 0
	for t, g := range grads {
		for lo := 0; lo < len(g.Values); lo += gradnorm.ChunkLen {
			cs = append(cs, chunk{t, lo})
		}
		n += len(g.Values)
	}
	return cs, n
}

// partials computes f of every chunk on the team, into one slot each.
func partials(t *team.Team, grads []gradnorm.Grad, cs []chunk, f func([]float32) float64) []float64 {
	out := make([]float64, len(cs))
	t.Run((len(cs)+chunksPerPart-1)/chunksPerPart, func(p int) {
		for i := p * chunksPerPart; i < min((p+1)*chunksPerPart, len(cs)); i++ {
			v := grads[cs[i].t].Values
			out[i] = f(v[cs[i].lo:min(cs[i].lo+gradnorm.ChunkLen, len(v))])
		}
	})
	return out
}

func (k Impl) total(t *team.Team, grads []gradnorm.Grad, cs []chunk, p float64) float64 {
	if math.IsInf(p, 1) {
		var m float64
		for _, x := range partials(t, grads, cs, gradnorm.MaxAbs) {
			if x != x {
				return x
			}
			m = math.Max(m, x)
		}
		return m
	}
	var s float64
	for _, x := range partials(t, grads, cs, gradnorm.SumSquares) {
		s += x // in chunk order, as gradnorm.TotalNorm
	}
	return math.Sqrt(s)
}

// TotalNorm implements gradnorm.Impl.
func (k Impl) TotalNorm(grads []gradnorm.Grad, p float64) (float64, error) {
	if p != 2 && !math.IsInf(p, 1) {
		return gradnorm.TotalNorm(nil, p) // its error names p
	}
	if err := gradnorm.ValidateGrads(grads); err != nil {
		return 0, err
	}
	cs, n := chunks(grads)
	t := k.team(n)
	defer t.Stop()
	return k.total(t, grads, cs, p), nil
}

// ClipGradNorm implements gradnorm.Impl: one parallel pass for the norm and,
// unless the coefficient is 1, one to scale, on the same team.
func (k Impl) ClipGradNorm(grads []gradnorm.Grad, maxNorm, p float64, errorIfNonfinite bool) (float64, error) {
	if err := gradnorm.ValidateClip(grads, maxNorm, p); err != nil {
		return 0, err
	}
	cs, n := chunks(grads)
	t := k.team(n)
	defer t.Stop()
	total := k.total(t, grads, cs, p)
	if errorIfNonfinite {
		if err := gradnorm.NonfiniteTotal(grads, total); err != nil {
			return total, err
		}
	}
	c := float32(gradnorm.ClipCoef(maxNorm, total))
	if c == 1 {
		return total, nil
	}
	t.Run((len(cs)+chunksPerPart-1)/chunksPerPart, func(p int) {
		for i := p * chunksPerPart; i < min((p+1)*chunksPerPart, len(cs)); i++ {
			v := grads[cs[i].t].Values
			gradnorm.Scale(v[cs[i].lo:min(cs[i].lo+gradnorm.ChunkLen, len(v))], c)
		}
	})
	return total, nil
}

// Package tied is a fast tied-embedding kernel: the input part runs on an
// embedding Kernel (scatter by default), the output part dst += dZᵀ·H is a
// cache-blocked product split across workers by rows of dst. Its reference
// loop is embgrad.TiedKernel's:
//
//	for t := 0; t < T; t++ {
//		for v := 0; v < V; v++ {
//			for j := 0; j < D; j++ {
//				dst[v*D+j] += dZ[t*V+v] * H[t*D+j]
//			}
//		}
//	}
//
// Each element sums its products in increasing t after the input part, so
// results are bitwise identical for every worker count: workers own
// disjoint row ranges of dst and need no locks.
package tied

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/internal/vec"
)

// Kernel is the blocked tied kernel. The zero value is ready to use.
type Kernel struct {
	// Input computes the input part; nil means scatter.Kernel{}.
	Input embgrad.Kernel
	// Workers is the number of goroutines for the output part; 0 means
	// GOMAXPROCS.
	Workers int
}

var (
	_ embgrad.TiedKernel   = Kernel{}
	_ embgrad.TiedParallel = Kernel{}
	_ embgrad.Kernel       = Kernel{}
)

// Name returns "tied".
func (Kernel) Name() string { return "tied" }

// WithTiedWorkers returns k with n workers.
func (k Kernel) WithTiedWorkers(n int) embgrad.TiedKernel {
	k.Workers = n
	return k
}

func (k Kernel) input() embgrad.Kernel {
	if k.Input == nil {
		return scatter.Kernel{}
	}
	return k.Input
}

// Backward is the input part alone: the untied embedding backward.
func (k Kernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	return k.input().Backward(dst, V, D, ids, gradOut, opt)
}

// BackwardTied implements embgrad.TiedKernel.
func (k Kernel) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	if err := embgrad.ValidateTied(dst, a); err != nil {
		return err
	}
	if err := k.input().Backward(dst, a.V, a.D, a.IDs, a.GradOut, a.Opt); err != nil {
		return err
	}
	k.output(dst, a)
	return nil
}

// Blocking: a worker takes rowBlock rows of dst at a time and walks t in
// blocks of tBlock, so that the tBlock rows of H it reads (tBlock·D·4 bytes;
// 24 KiB at D = 768) and the dst rows it updates stay in cache.
const (
	rowBlock = 64
	tBlock   = 8
	// minWork is the number of multiply-adds below which one goroutine does
	// the whole product: spawning costs more than it saves.
	minWork = 1 << 16
)

// output adds dZᵀ·H into dst.
func (k Kernel) output(dst []float32, a embgrad.TiedArgs) {
	V, D, T := a.V, a.D, a.T
	if V == 0 || D == 0 || T == 0 {
		return
	}
	blocks := (V + rowBlock - 1) / rowBlock
	w := k.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if float64(T)*float64(V)*float64(D) < minWork {
		w = 1
	}
	w = min(w, blocks)
	if w == 1 {
		outerRows(dst, a, 0, V)
		return
	}
	// Blocks are handed out in order from a shared counter: rows are
	// disjoint, so which worker takes a block does not change its bits.
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range w {
		wg.Go(func() {
			for {
				b := int(next.Add(1) - 1)
				if b >= blocks {
					return
				}
				outerRows(dst, a, b*rowBlock, min((b+1)*rowBlock, V))
			}
		})
	}
	wg.Wait()
}

// outerRows adds rows [v0, v1) of dZᵀ·H into dst, t in increasing order.
func outerRows(dst []float32, a embgrad.TiedArgs, v0, v1 int) {
	V, D, T := a.V, a.D, a.T
	for t0 := 0; t0 < T; t0 += tBlock {
		t1 := min(t0+tBlock, T)
		for v := v0; v < v1; v++ {
			row := dst[v*D : v*D+D]
			for t := t0; t < t1; t++ {
				vec.AddScaled(row, a.H[t*D:t*D+D], a.DZ[t*V+v])
			}
		}
	}
}

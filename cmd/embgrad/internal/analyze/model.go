package analyze

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/reference"
)

// chunk is how many positions one reference.TiedModel pass takes: its
// ∂L/∂Z is chunk×V' float64.
const chunk = 1024

// vocab maps the ids of a stream's analysed region to a compact vocabulary
// of its distinct ids (ascending), so that the tied model's softmax runs
// over V' rows instead of the full vocabulary: the model is then a tied
// model of the tokens that occur, and a row's gradient is what it would be
// with the absent rows' logits left out of the softmax.
type vocab struct {
	ids   []int32 // compact row → stream id
	index []int32 // stream id → compact row, -1 if absent
}

func newVocab(V int, ids []int32) vocab {
	v := vocab{index: slices.Repeat([]int32{-1}, V)}
	for _, id := range ids {
		v.index[id] = 0
	}
	for id, x := range v.index {
		if x == 0 {
			v.index[id] = int32(len(v.ids))
			v.ids = append(v.ids, int32(id))
		}
	}
	return v
}

func (v vocab) remap(ids []int32) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = v.index[id]
	}
	return out
}

// model is the tied model on a compact vocabulary with its tables.
type model struct {
	m    reference.TiedModel
	E, P []float64
	seq  int
}

// modelStream is the PCG stream of the model's initial tables.
const modelStream = 0xa9a1

func newModel(seed uint64, V, D, seqLen int) model {
	m, E, P := reference.NewTiedModel(rand.New(rand.NewPCG(seed, modelStream)), V, D, seqLen, false)
	return model{m: m, E: E, P: P, seq: seqLen}
}

// batch is positions [lo, hi) of the compact stream: ids[i] predicting
// ids[i+1] at position i mod seq.
func (md model) batch(ids []int32, lo, hi int) reference.TiedBatch {
	b := reference.TiedBatch{IDs: ids[lo:hi], Targets: ids[lo+1 : hi+1], Pos: make([]int32, hi-lo)}
	for i := range b.Pos {
		b.Pos[i] = int32((lo + i) % md.seq)
	}
	return b
}

// grads is the gradient of the mean cross-entropy over one batch, split by
// path: lookup is ∂L/∂Y (N×D), the upstream gradient of the embedding
// lookup; output is dZᵀ·H (V'×D), the output projection's part; dP the
// positional table's.
type grads struct {
	loss   float64
	ids    []int32
	dY     []float64
	output []float64
	dP     []float64
}

// gradient runs the model over positions [lo, hi) in chunks and combines
// them into the gradient of the batch's mean loss.
func (md model) gradient(ids []int32, lo, hi int) grads {
	V, D, N := md.m.V, md.m.D, hi-lo
	g := grads{ids: ids[lo:hi], dY: make([]float64, N*D), output: make([]float64, V*D), dP: make([]float64, md.seq*D)}
	for c := lo; c < hi; c += chunk {
		e := min(c+chunk, hi)
		b := md.batch(ids, c, e)
		r := md.m.Pass(md.E, md.P, b)
		w := float64(e-c) / float64(N) // the chunk's share of the batch mean
		g.loss += w * r.Loss
		for k, x := range r.DY {
			g.dY[(c-lo)*D+k] = w * x
		}
		for k := range r.DZ {
			r.DZ[k] *= w
		}
		reference.TiedBackward64(g.output, V, D, nil, nil, e-c, r.H, r.DZ)
		reference.Backward64(g.dP, md.seq, D, b.Pos, g.dY[(c-lo)*D:(e-lo)*D], embgrad.Options{})
	}
	return g
}

// lookupKernel is the float32 kernel analyze scatters ∂L/∂Y with: the
// product's own backward, not the oracle.
func lookupKernel() embgrad.Kernel {
	if k, ok := registry.Lookup("sorted"); ok {
		return k
	}
	return registry.Kernels()[0]
}

// lookupGrad is the lookup path's table gradient in float32, by the
// kernel, with or without scale_grad_by_freq.
func (g grads) lookupGrad(V, D int, scale bool) ([]float32, error) {
	dst := make([]float32, V*D)
	dy := make([]float32, len(g.dY))
	for k, x := range g.dY {
		dy[k] = float32(x)
	}
	err := lookupKernel().Backward(dst, V, D, g.ids, dy, embgrad.Options{ScaleGradByFreq: scale})
	return dst, err
}

// tableGrad is the whole tied gradient of E: the lookup path (scaled by
// frequency or not, as torch's scale_grad_by_freq scales only the lookup's
// backward) plus the output projection's.
func (g grads) tableGrad(V, D int, scale bool) ([]float32, error) {
	dst, err := g.lookupGrad(V, D, scale)
	if err != nil {
		return nil, err
	}
	for k := range dst {
		dst[k] = float32(float64(dst[k]) + g.output[k])
	}
	return dst, nil
}

func rowNorms(x []float32, V, D int) ([]float64, error) {
	n := make([]float64, V)
	return n, gradnorm.RowNorms(n, gradnorm.Dense(x, V, D))
}

// optimizer is one of the runs of "how embeddings move".
type optimizer struct {
	name    string
	scale   bool    // scale_grad_by_freq on the lookup path
	adagrad bool    // row-wise Adagrad instead of SGD
	lr      float64 // learning rate
}

// train runs steps optimizer steps from md's tables over consecutive
// batches of B positions, returning the tables after and the mean loss of
// the first and the last step. E and P are trained; W and B stay fixed.
//
// SGD: E −= lr·∂L/∂E, P −= lr·∂L/∂P. Row-wise Adagrad (a minimal local
// version, one accumulator per row as torch's and TF's row-wise sparse
// Adagrad keep, until the optimizer package lands): a_r += mean_j g_rj²,
// E_r −= lr·g_r/(√a_r + 1e-10); P the same.
func (md model) train(ids []int32, B, steps int, o optimizer, progress func(string)) (E, P []float64, first, last float64, err error) {
	V, D := md.m.V, md.m.D
	cur := model{m: md.m, E: slices.Clone(md.E), P: slices.Clone(md.P), seq: md.seq}
	accE, accP := make([]float64, V), make([]float64, md.seq)
	for s := range steps {
		progress(fmt.Sprintf("%s step %d/%d", o.name, s+1, steps))
		g := cur.gradient(ids, s*B, (s+1)*B)
		dE, err := g.tableGrad(V, D, o.scale)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		if s == 0 {
			first = g.loss
		}
		last = g.loss
		dE64 := make([]float64, len(dE))
		for k, x := range dE {
			dE64[k] = float64(x)
		}
		step(cur.E, dE64, accE, D, o)
		step(cur.P, g.dP, accP, D, o)
	}
	return cur.E, cur.P, first, last, nil
}

func step(w, g, acc []float64, D int, o optimizer) {
	if !o.adagrad {
		for k := range w {
			w[k] -= o.lr * g[k]
		}
		return
	}
	for r := range acc {
		row := g[r*D : (r+1)*D]
		var s float64
		for _, x := range row {
			s += x * x
		}
		acc[r] += s / float64(D)
		d := math.Sqrt(acc[r]) + 1e-10
		for j, x := range row {
			w[r*D+j] -= o.lr * x / d
		}
	}
}

// movement is, per row, cos(E0_r, E1_r) and ‖E1_r − E0_r‖/‖E0_r‖.
func movement(E0, E1 []float64, V, D int) (cos, rel []float64) {
	cos, rel = make([]float64, V), make([]float64, V)
	for r := range V {
		var ab, aa, bb, dd float64
		for j := range D {
			a, b := E0[r*D+j], E1[r*D+j]
			ab += a * b
			aa += a * a
			bb += b * b
			dd += (b - a) * (b - a)
		}
		cos[r] = ab / math.Sqrt(aa*bb)
		rel[r] = math.Sqrt(dd / aa)
	}
	return cos, rel
}

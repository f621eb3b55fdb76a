package reference

import (
	"math"
	"math/rand/v2"

	"github.com/embgrad/embgrad"
)

// TiedModel is a small language model whose embedding table E (V×D) is also
// its output projection, in float64:
//
//	Y[i] = E[ids[i]] + P[pos[i]]              (N×D; P is MaxPos×D)
//	H    = tanh(Y·W + B)                      (N×D; W is D×D)
//	Z    = H·Eᵀ                               (N×V)
//	L    = (1/N) Σ_i logsumexp(Z[i]) − Z[i, targets[i]]
//
// so ∂L/∂E = scatter(∂L/∂Y, ids) + dZᵀ·H flows through both uses of E, and
// ∂L/∂P = scatter(∂L/∂Y, pos). The tanh makes the loss nonlinear in E on
// both paths, so finite differences test the chain rule rather than being
// exact by construction.
type TiedModel struct {
	V, D, MaxPos int
	W, B         []float64 // D×D and D
	// Sinusoidal marks P as the fixed table Sinusoidal(MaxPos, D): it
	// receives no gradient (Grad returns a nil dP).
	Sinusoidal bool
}

// TiedBatch is one batch: N positions, each with its input id, its position
// within its sequence, and the id it should predict.
type TiedBatch struct {
	IDs, Pos, Targets []int32
}

// NewTiedModel draws W and B (entries uniform in ±1/√D, so H stays away from
// saturation) and returns the model with initial tables E (uniform in ±1)
// and P (learned: uniform in ±½; else the sinusoidal table).
func NewTiedModel(rng *rand.Rand, V, D, maxPos int, sinusoidal bool) (m TiedModel, E, P []float64) {
	m = TiedModel{V: V, D: D, MaxPos: maxPos, W: make([]float64, D*D), B: make([]float64, D), Sinusoidal: sinusoidal}
	s := 1 / math.Sqrt(float64(max(D, 1)))
	fill(rng, m.W, s)
	fill(rng, m.B, s)
	E = make([]float64, V*D)
	fill(rng, E, 1)
	if sinusoidal {
		P = Sinusoidal(maxPos, D)
	} else {
		P = make([]float64, maxPos*D)
		fill(rng, P, 0.5)
	}
	return m, E, P
}

func fill(rng *rand.Rand, x []float64, scale float64) {
	for k := range x {
		x[k] = scale * (2*rng.Float64() - 1)
	}
}

// NewTiedBatch draws N uniform ids and targets in [0, V) for sequences of
// length seqLen laid end to end: pos[i] = i mod seqLen.
func NewTiedBatch(rng *rand.Rand, V, seqLen, N int) TiedBatch {
	b := TiedBatch{IDs: make([]int32, N), Pos: make([]int32, N), Targets: make([]int32, N)}
	for i := range N {
		b.IDs[i] = int32(rng.IntN(V))
		b.Targets[i] = int32(rng.IntN(V))
		b.Pos[i] = int32(i % seqLen)
	}
	return b
}

// Sinusoidal is the fixed position table of "Attention Is All You Need":
// P[p, 2k] = sin(p/10000^(2k/D)), P[p, 2k+1] = cos(p/10000^(2k/D)).
func Sinusoidal(maxPos, D int) []float64 {
	P := make([]float64, maxPos*D)
	for p := range maxPos {
		for j := range D {
			a := float64(p) / math.Pow(10000, float64(j&^1)/float64(D))
			if j&1 == 0 {
				P[p*D+j] = math.Sin(a)
			} else {
				P[p*D+j] = math.Cos(a)
			}
		}
	}
	return P
}

// TiedPass is one forward and backward pass up to the table: what a tied
// kernel consumes (H, DZ and DY as GradOut), and the loss.
type TiedPass struct {
	Loss float64
	H    []float64 // N×D hidden states
	DZ   []float64 // N×V ∂L/∂Z = (softmax(Z) − onehot(targets))/N
	DY   []float64 // N×D ∂L/∂Y
}

// Pass runs the model on a batch. Inputs must be valid.
func (m TiedModel) Pass(E, P []float64, b TiedBatch) TiedPass {
	V, D, N := m.V, m.D, len(b.IDs)
	r := TiedPass{H: make([]float64, N*D), DZ: make([]float64, N*V), DY: make([]float64, N*D)}
	y := make([]float64, D)
	for i := range N {
		for j := range D {
			y[j] = E[int(b.IDs[i])*D+j] + P[int(b.Pos[i])*D+j]
		}
		h := r.H[i*D : i*D+D]
		for k := range D {
			a := m.B[k]
			for j := range D {
				a += y[j] * m.W[j*D+k]
			}
			h[k] = math.Tanh(a)
		}
		z := r.DZ[i*V : i*V+V] // logits first, then overwritten by dZ
		zmax := math.Inf(-1)
		for v := range V {
			z[v] = dot(h, E[v*D:v*D+D])
			zmax = max(zmax, z[v])
		}
		var sum float64
		for v := range V {
			sum += math.Exp(z[v] - zmax)
		}
		lse := zmax + math.Log(sum)
		r.Loss += lse - z[b.Targets[i]]
		for v := range V {
			z[v] = math.Exp(z[v]-lse) / float64(N)
		}
		z[b.Targets[i]] -= 1 / float64(N)
	}
	if N > 0 {
		r.Loss /= float64(N)
	}
	// dH = dZ·E, dA = dH ⊙ (1 − H²), dY = dA·Wᵀ.
	dA := make([]float64, D)
	for i := range N {
		h := r.H[i*D : i*D+D]
		for j := range D {
			var s float64
			for v := range V {
				s += r.DZ[i*V+v] * E[v*D+j]
			}
			dA[j] = s * (1 - h[j]*h[j])
		}
		for j := range D {
			r.DY[i*D+j] = dot(dA, m.W[j*D:j*D+D])
		}
	}
	return r
}

func dot(a, b []float64) float64 {
	var s float64
	for k := range a {
		s += a[k] * b[k]
	}
	return s
}

// Loss is L(E, P) on a batch.
func (m TiedModel) Loss(E, P []float64, b TiedBatch) float64 { return m.Pass(E, P, b).Loss }

// Grad is the analytic gradient: dE = scatter(DY, ids) + DZᵀ·H through both
// uses of E, and dP = scatter(DY, pos), or nil for a sinusoidal P.
func (m TiedModel) Grad(E, P []float64, b TiedBatch) (dE, dP []float64) {
	V, D := m.V, m.D
	r := m.Pass(E, P, b)
	dE = make([]float64, V*D)
	TiedBackward64(dE, V, D, b.IDs, r.DY, len(b.IDs), r.H, r.DZ)
	if !m.Sinusoidal {
		dP = make([]float64, m.MaxPos*D)
		Backward64(dP, m.MaxPos, D, b.Pos, r.DY, embgrad.Options{})
	}
	return dE, dP
}

// TiedBackward64 is the tied backward in float64 without options:
// dst += scatter(g, ids) + dZᵀ·H. Inputs must be valid.
func TiedBackward64(dst []float64, V, D int, ids []int32, g []float64, T int, H, dZ []float64) {
	Backward64(dst, V, D, ids, g, embgrad.Options{})
	for t := range T {
		h := H[t*D : t*D+D]
		for v := range V {
			z := dZ[t*V+v]
			row := dst[v*D : v*D+D]
			for j := range row {
				row[j] += z * h[j]
			}
		}
	}
}

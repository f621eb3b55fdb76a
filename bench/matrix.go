package bench

import "github.com/embgrad/embgrad"

// Mode is how a benchmark uses the gradient buffer.
type Mode string

// The modes of the matrix.
const (
	// Accumulate adds into the buffer with Backward, as a training step's
	// .grad accumulates.
	Accumulate Mode = "accumulate"
	// Scratch overwrites it with embgrad.Scratch: the kernel's fused
	// from-scratch path when it has one, else clear and Backward.
	Scratch Mode = "scratch"
)

// Modes lists the modes in benchmark order.
func Modes() []Mode { return []Mode{Accumulate, Scratch} }

// Case is one benchmark of BenchmarkBackward.
type Case struct {
	Kernel  embgrad.Kernel // with Workers applied
	Impl    string         // the kernel's Name
	Shape   Shape
	Dist    Dist
	Mode    Mode
	Workers int
}

// Name is the sub-benchmark name, key=value parts that benchstat can pivot
// on; extra keys go after mode.
func (c Case) Name() string {
	return Sub(BackwardKeys, c.Impl, c.Shape.V, c.Shape.D, c.Shape.N, c.Dist, c.Mode, c.Workers)
}

// Cases returns the matrix in run order: by shape, then distribution, then
// kernel, worker count and mode, so that one shape's buffers and one
// distribution's ids serve consecutive cases. Kernels implementing
// embgrad.Parallel run at every count of WorkerCounts(gomaxprocs); the
// others at workers=1, the one goroutine they use.
func Cases(shapes []Shape, kernels []embgrad.Kernel, gomaxprocs int) []Case {
	var cs []Case
	for _, s := range shapes {
		for _, d := range Dists() {
			for _, k := range kernels {
				for _, w := range WorkerCounts(gomaxprocs) {
					kw := k
					if p, ok := k.(embgrad.Parallel); ok {
						kw = p.WithWorkers(w)
					} else if w > 1 {
						break
					}
					for _, m := range Modes() {
						cs = append(cs, Case{Kernel: kw, Impl: k.Name(), Shape: s, Dist: d, Mode: m, Workers: w})
					}
				}
			}
		}
	}
	return cs
}

// WorkerCounts returns 1, 2, 4, … below gomaxprocs, and gomaxprocs.
func WorkerCounts(gomaxprocs int) []int {
	var ws []int
	for w := 1; w < gomaxprocs; w *= 2 {
		ws = append(ws, w)
	}
	return append(ws, max(gomaxprocs, 1))
}

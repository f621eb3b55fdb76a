package bench

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Benchmark names are key=value parts, one per name level, so that
// benchstat can pivot (-col /impl) and a go test -bench pattern can filter
// per level. The layout of each family is defined here once; the benchmarks,
// embgrad bench's filters, the report's projections and the CI workflow's
// -bench pattern (.github/workflows/bench.yml) follow it. Extra keys go
// last, so a filter on the leading keys still selects them.

// Top-level benchmark names.
const (
	Backward = "BenchmarkBackward"
	Tied     = "BenchmarkTied"
	Memory   = "BenchmarkMemory"
	Step     = "BenchmarkStep"
	Bag      = "BenchmarkBag"
	Norm     = "BenchmarkNorm" // gradnorm: per-row norms, total norm, clipping
	// Backward16 is the 16-bit family (bench/half_test.go).
	Backward16 = "BenchmarkBackward16"
	Sparse     = "BenchmarkSparse"

	TiedWorkers = "BenchmarkTiedWorkers"
	Peak        = "BenchmarkPeak"
)

// Keys of the names, in the order they appear.
const (
	KeyImpl    = "impl"
	KeyV       = "V"
	KeyD       = "D"
	KeyN       = "N"
	KeyDist    = "dist"
	KeyMode    = "mode"
	KeyWorkers = "workers"
	KeyT       = "T"
	KeyOp      = "op"
	KeySize    = "size"
	KeyThreads = "threads"
	KeyOptim   = "optim"
	KeyB       = "B"       // bags
	KeyL       = "L"       // ids per bag
	KeyDst     = "dst"     // BenchmarkBag: accumulate or scratch (its mode key is the pooling); BenchmarkBackward16: dst's type, f32 or 16 (gradOut's format)
	KeyWeights = "weights" // BenchmarkBag: none or random per-sample weights
	KeyDType   = "dtype"   // gradOut's type: bf16, f16, f32
	KeyISA     = "isa"
)

// Key order per family.
var (
	BackwardKeys = []string{KeyImpl, KeyV, KeyD, KeyN, KeyDist, KeyMode, KeyWorkers}
	TiedKeys     = []string{KeyImpl, KeyV, KeyD, KeyT}
	MemoryKeys   = []string{KeyOp, KeySize, KeyThreads}
	StepKeys     = []string{KeyImpl, KeyV, KeyD, KeyN, KeyDist, KeyOptim, KeyWorkers}
	BagKeys      = []string{KeyImpl, KeyV, KeyD, KeyB, KeyL, KeyDist, KeyMode, KeyDst, KeyWeights, KeyWorkers}
	// NormKeys: op is rownorm, total or clip (see bench/norm_test.go).
	NormKeys = []string{KeyImpl, KeyV, KeyD, KeyOp, KeyWorkers}
	// Backward16Keys: the leading keys of BenchmarkBackward, then dtype and dst.
	Backward16Keys = []string{KeyImpl, KeyV, KeyD, KeyN, KeyDist, KeyMode, KeyDType, KeyDst}
	SparseKeys     = []string{KeyImpl, KeyV, KeyD, KeyN, KeyDist, KeyWorkers}

	TiedWorkersKeys = []string{KeyImpl, KeyV, KeyD, KeyT, KeyWorkers}
	PeakKeys        = []string{KeyISA, KeyThreads}
)

// Flags of the benchmark binary (besides go test's own).
const (
	FlagShapes = "embgrad.shapes" // bench.SelectShapes syntax
	FlagCheck  = "embgrad.check"  // check outputs against the oracle before timing
	// FlagSparseShapes selects BenchmarkSparse's shapes (SelectSparseShapes);
	// empty: the ones FlagShapes names.
	FlagSparseShapes = "embgrad.sparseshapes"
	FlagHog          = "embgrad.hog" // CPU-hog child processes beside the benchmarks
	// FlagSlowdown is the test-only slowdown knob of gate calibration.
	FlagSlowdown = "embgrad.slowdown"
	// FlagWarmUp is the untimed warm-up before each sample's timed loop;
	// FlagHugePages backs the big buffers with transparent huge pages
	// (bench/quiet.go, results/noise/NOISE.md).
	FlagWarmUp    = "embgrad.warmup"
	FlagHugePages = "embgrad.hugepages"
	// FlagCPULatency holds /dev/cpu_dma_latency at 0 during the run
	// (idle vCPUs poll instead of halting; root only).
	FlagCPULatency = "embgrad.cpulatency0"
)

// Sub names the sub-benchmark of a family from its values, one per key in
// order: Sub(BackwardKeys, "loop", 50257, ...) = "impl=loop/V=50257/...".
func Sub(keys []string, vals ...any) string {
	if len(vals) != len(keys) {
		panic(fmt.Sprintf("bench.Sub: %d values for keys %v", len(vals), keys))
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, vals[i])
	}
	return strings.Join(parts, "/")
}

// Pattern is a go test -bench pattern selecting the family's
// sub-benchmarks whose keys take one of the listed values (a key not in
// filter, or with no values, matches anything). go test splits a pattern
// at '/' into one expression per name level.
func Pattern(family string, keys []string, filter map[string][]string) string {
	levels := []string{"^" + family + "$"}
	for _, k := range keys {
		vals := filter[k]
		if len(vals) == 0 {
			levels = append(levels, ".")
			continue
		}
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = regexp.QuoteMeta(v)
		}
		levels = append(levels, "^"+k+"=("+strings.Join(q, "|")+")$")
	}
	p := strings.Join(levels, "/")
	for strings.HasSuffix(p, "/.") {
		p = strings.TrimSuffix(p, "/.")
	}
	return p
}

// ExactPattern is a go test -bench pattern matching exactly the benchmarks
// with these full names (as results files print them, GOMAXPROCS suffix
// and all): each name level anchored and quoted, names joined by '|' (go
// test splits a pattern at top-level '|' into alternatives, each split at
// '/' into per-level expressions).
func ExactPattern(names []string) string {
	var alts []string
	for _, n := range names {
		base, parts := benchfmt.Name(n).Parts()
		levels := []string{"^" + regexp.QuoteMeta(string(base)) + "$"}
		for _, p := range parts {
			if p[0] == '-' { // GOMAXPROCS suffix, not part of the name
				continue
			}
			levels = append(levels, "^"+regexp.QuoteMeta(string(p[1:]))+"$")
		}
		alts = append(alts, strings.Join(levels, "/"))
	}
	return strings.Join(alts, "|")
}

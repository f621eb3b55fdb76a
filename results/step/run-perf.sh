#!/bin/sh
# The measurements of results/step/STEP.md's "Vectorised step" section, from
# the repository root, in one session: the Go benchmarks (one test binary)
# and torch's step peers on the same ids. Each file records `uptime` at its
# start and end.
set -eu
OUT=${OUT:-results/step}
BIN=${BIN:-/tmp/stepperf-bench.test}
IDS=${IDS:-/tmp/stepperf-ids}
PY=/usr/bin/python3
go test -c -o "$BIN" ./bench
up() { echo "# uptime: $(uptime)"; }
(
	cd bench
	# Llama-3, Zipf: the memory-copy probe before and after the fused and
	# sparse+step steps at 1 and 2 workers (the roofline is op=copy at
	# threads=workers).
	f=../$OUT/perf-llama3.txt
	up >"$f"
	"$BIN" -test.run '^$' -test.bench 'BenchmarkMemory/op=copy/' -test.benchtime 5x -test.count 3 >>"$f"
	"$BIN" -test.run '^$' -test.bench 'BenchmarkStep/impl=(fused|sparse\+step)/V=128256/D=4096/N=8192/dist=zipf/' \
		-test.benchtime 5x -test.count 6 -embgrad.shapes=llama3 >>"$f"
	"$BIN" -test.run '^$' -test.bench 'BenchmarkMemory/op=copy/' -test.benchtime 5x -test.count 3 >>"$f"
	up >>"$f"
	# The vocabulary sweep, D = 256, N = 8192, Zipf.
	f=../$OUT/perf-sweep.txt
	up >"$f"
	"$BIN" -test.run '^$' -test.bench 'BenchmarkStep/impl=(fused|sparse\+step)/V=(10000|100000|1000000)/D=256/N=8192/dist=zipf/' \
		-test.benchtime 20x -test.count 6 >>"$f"
	up >>"$f"
)
# torch's step peers on Llama-3, Zipf, 2 threads (ids: go run ./bench/peers/dumpids
# -out $IDS -shapes gpt2 -sparse all): sparse + SGD, and dense + SGD with
# glibc keeping freed memory (the reuse variant, bench/peers/README.md).
[ -d "$IDS" ] || go run ./bench/peers/dumpids -out "$IDS" -shapes gpt2 -sparse all
F="-ids $IDS -count 6 -benchtime 100ms -warmup 1 -workers 2 -dist ^zipf$ -families step -shape ^llama3$"
f=$OUT/perf-peers.txt
up >"$f"
$PY bench/peers/peers.py $F -impl '^torch-sparse-sgd$' >>"$f"
env MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 \
	$PY bench/peers/peers.py $F -impl '^torch-dense-sgd$' -variant reuse >>"$f"
up >>"$f"

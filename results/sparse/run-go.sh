#!/bin/sh
# BenchmarkSparse as run for results/sparse/sparse.txt, from the repository
# root: every sparse shape (GPT-2, Llama-3 at N=8192, the V sweep), -count 6,
# -benchtime 100ms, with the config lines embgrad report lists.
set -eu
OUT=${OUT:-results/sparse/sparse.txt}
go test -c -o /tmp/embgrad-bench.test ./bench
{
	echo "commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- . ':!results' || echo -dirty)"
	echo "go: $(go env GOVERSION)"
	echo "gomaxprocs: $(nproc)"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "benchtime: 100ms"
	echo "command: sh results/sparse/run-go.sh (go test -c ./bench; bench.test -test.run '^\$' -test.bench '^BenchmarkSparse\$' -test.count 6 -test.benchtime 100ms -test.benchmem -embgrad.sparseshapes all)"
	(cd bench && /tmp/embgrad-bench.test -test.run '^$' -test.bench '^BenchmarkSparse$' -test.count 6 \
		-test.benchtime 100ms -test.benchmem -embgrad.sparseshapes all)
	echo "loadavg-end: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"

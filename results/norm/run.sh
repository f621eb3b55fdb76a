#!/bin/sh
# Norm and clipping benchmarks with the in-run memory probe, from the
# repository root: results/norm/run.sh. Writes results/norm/norm-gpt2.txt
# and norm-llama3.txt (benchfmt), each headed by the load average.
set -e
cd "$(dirname "$0")/../.."
{ echo "# uptime: $(uptime)"; go test -run '^$' -bench 'BenchmarkNorm|BenchmarkMemory/op=(read|copy)' \
	-benchtime 20x -count 8 ./bench -args -embgrad.shapes=gpt2; echo "# uptime after: $(uptime)"; } > results/norm/norm-gpt2.txt
{ echo "# uptime: $(uptime)"; go test -run '^$' -bench 'BenchmarkNorm|BenchmarkMemory/op=(read|copy)' \
	-benchtime 3x -count 6 ./bench -args -embgrad.shapes=llama3; echo "# uptime after: $(uptime)"; } > results/norm/norm-llama3.txt

#!/bin/sh
# Regenerates the measurements behind results/bag/BAG.md in one session:
#
#	sh results/bag/run.sh
#
# go.txt: BenchmarkBag (every kernel, shape, pooling, dst mode, worker
# count) and BenchmarkMemory (the in-run bandwidth probe) in one go test
# process; torch.txt and torch-reuse.txt: bench/peers/bag.py with the default
# allocator and with glibc reusing the freed table (impl=torch-bag-reuse).
# uptime is recorded before and after each part in load.txt.
set -eu
cd "$(dirname "$0")/../.."
OUT=results/bag
COUNT=${COUNT:-6}
PY=/usr/bin/python3
: >"$OUT/load.txt"
load() { echo "$1: $(date -u +%FT%TZ) $(uptime)" >>"$OUT/load.txt"; }
load "go start"
go test -timeout 0 -run '^$' -bench '^Benchmark(Bag|Memory)$' -benchtime 100ms -count "$COUNT" ./bench >"$OUT/go.txt"
load "go end"
IDS=$(mktemp -d)
go run ./bench/peers/dumpbags -out "$IDS"
load "torch start"
# The default allocator faults a new table in on every call (seconds per call
# on this machine): the recommender sum shape only, fewer samples.
"$PY" bench/peers/bag.py -ids "$IDS" -shape '^recsys-L20$' -mode '^sum$' -count "$COUNT" -benchtime 1ms -warmup 1 -o "$OUT/torch.txt"
load "torch end"
MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 \
	"$PY" bench/peers/bag.py -ids "$IDS" -count "$COUNT" -benchtime 100ms -variant reuse -o "$OUT/torch-reuse.txt"
load "torch-reuse end"
rm -rf "$IDS"

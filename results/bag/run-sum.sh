#!/bin/sh
# The narrower session behind the second run in results/bag/BAG.md: the
# recommender sum shape (V=10⁶ D=64 B=2048 L=20, Zipf) and the text shape,
# unweighted sum, bagloop vs bagsharded at 1 and 2 workers, accumulate and
# from scratch, with BenchmarkMemory op=copy and op=write in a second go test process right after;
# then torch with the default allocator and with memory reuse on the same
# ids. uptime before and after each part goes to load.txt.
#
#	sh results/bag/run-sum.sh
set -eu
cd "$(dirname "$0")/../.."
OUT=${OUT:-results/bag/r2}
COUNT=${COUNT:-10}
PY=/usr/bin/python3
mkdir -p "$OUT"
: >"$OUT/load.txt"
load() { echo "$1: $(date -u +%FT%TZ) $(uptime)" >>"$OUT/load.txt"; }
load "go start"
go test -timeout 0 -run '^$' \
	-bench '^BenchmarkBag$/^impl=bag/^(V=1000000|V=50257)$/^(D=64|D=768)$/^(B=2048|B=64)$/^(L=20|L=128)$/(zipf|text)/mode=sum/dst=/weights=none' \
	-benchtime 100ms -count "$COUNT" ./bench >"$OUT/go.txt"
# A pattern with more levels than BenchmarkMemory's names skips it, so the
# bandwidth probe is a second go test process, right after.
go test -timeout 0 -run '^$' -bench '^BenchmarkMemory$/^op=(copy|write)$' -benchtime 100ms -count "$COUNT" ./bench | grep '^Benchmark' >>"$OUT/go.txt"
load "go end"
IDS=$(mktemp -d)
go run ./bench/peers/dumpbags -out "$IDS"
load "torch start"
"$PY" bench/peers/bag.py -ids "$IDS" -shape '^recsys-L20$' -mode '^sum$' -weights '^none$' -count 6 -benchtime 1ms -warmup 1 -o "$OUT/torch.txt"
load "torch end"
MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 \
	"$PY" bench/peers/bag.py -ids "$IDS" -shape '^(recsys-L20|text)$' -mode '^sum$' -weights '^none$' -count "$COUNT" -benchtime 100ms -variant reuse -o "$OUT/torch-reuse.txt"
load "torch-reuse end"
rm -rf "$IDS"

#!/bin/sh
# run.sh — embgrad's Go benchmark matrix and the Python peers (PyTorch,
# numpy) on the same machine, one after the other, then the combined report.
#
# From the repository root:
#
#	bench/peers/run.sh
#
# writes results/$NAME.txt (Go: embgrad bench), results/peers.txt (peers.py),
# results/peers-reuse.txt (torch-dense again, with glibc malloc reusing freed
# memory: impl=torch-dense-reuse) and the report of all three (embgrad report).
#
# Environment (defaults in brackets):
#	NAME         Go results file results/NAME.txt                [baseline]
#	SHAPES       shapes of the Go matrix (embgrad bench -shapes) [default]
#	PEERS_SHAPES shapes of the peers (dumpids -shapes)           [gpt2]
#	COUNT        samples per benchmark, both sides               [10]
#	BENCHTIME    minimum time per sample, both sides             [100ms]
#	PEERS_ONLY   1: skip the Go run, reuse results/NAME.txt      [unset]
#	BENCH_FLAGS  extra flags for embgrad bench                   [none]
#	PEERS_FLAGS  extra flags for peers.py (e.g. "-dist zipf")    [none]
#	PEERS_OUT    the peers' results file                         [results/peers.txt]
#	REUSE_OUT    torch-dense-reuse results ("" to skip)          [results/peers-reuse.txt]
#	REPORT_DIR   where embgrad report writes REPORT.md and plots [results]
#	HOG          N > 0: the Go matrix again beside N CPU hogs    [unset]
#	             (embgrad bench -hog N) into results/NAME-hogN.txt,
#	             reported beside the quiet run (section "Under load")
#
# Needs Debian's python3-torch, python3-numpy and libopenblas0-pthread
# (sudo sh scripts/install-peers.sh); the peers run under /usr/bin/python3,
# not a pyenv/venv python3 that may come first on PATH. OPENBLAS_* variables
# set in the environment are passed through as they are (and recorded in
# results/peers.txt).
set -eu

cd "$(dirname "$0")/../.."
NAME=${NAME:-baseline}
SHAPES=${SHAPES:-default}
PEERS_SHAPES=${PEERS_SHAPES:-gpt2}
COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-100ms}
BENCH_FLAGS=${BENCH_FLAGS:-}
PEERS_FLAGS=${PEERS_FLAGS:-}
PEERS_OUT=${PEERS_OUT:-results/peers.txt}
REUSE_OUT=${REUSE_OUT-results/peers-reuse.txt}
REPORT_DIR=${REPORT_DIR:-results}
PY=/usr/bin/python3

# Fail before the long Go run if the peers cannot run.
"$PY" bench/peers/peers.py -check

mkdir -p results
if [ "${PEERS_ONLY:-}" != 1 ]; then
	# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
	go run ./cmd/embgrad bench -name "$NAME" -shapes "$SHAPES" -count "$COUNT" -benchtime "$BENCHTIME" $BENCH_FLAGS
	if [ "${HOG:-0}" -gt 0 ]; then
		# shellcheck disable=SC2086
		go run ./cmd/embgrad bench -name "$NAME-hog$HOG" -hog "$HOG" -shapes "$SHAPES" -count "$COUNT" -benchtime "$BENCHTIME" $BENCH_FLAGS
	fi
fi
LOADED=
if [ "${HOG:-0}" -gt 0 ]; then
	LOADED="results/$NAME-hog$HOG.txt"
fi
# shellcheck disable=SC2086 # PEERS_FLAGS is a list of flags
"$PY" bench/peers/peers.py -shapes "$PEERS_SHAPES" -count "$COUNT" -benchtime "$BENCHTIME" -o "$PEERS_OUT" $PEERS_FLAGS
if [ -n "$REUSE_OUT" ]; then
	# torch-dense allocates a fresh V×D table per call; glibc maps it anew
	# each time and every page faults in (slow on some VMs). These settings
	# make glibc keep freed memory in its heap, as a caching allocator would.
	# shellcheck disable=SC2086
	MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 \
		"$PY" bench/peers/peers.py -shapes "$PEERS_SHAPES" -count "$COUNT" -benchtime "$BENCHTIME" \
		-impl '^torch-dense$' -tied none -variant reuse -o "$REUSE_OUT" $PEERS_FLAGS
	# shellcheck disable=SC2086 # LOADED is empty or one path
	go run ./cmd/embgrad report -dir "$REPORT_DIR" "results/$NAME.txt" "$PEERS_OUT" "$REUSE_OUT" $LOADED
else
	# shellcheck disable=SC2086
	go run ./cmd/embgrad report -dir "$REPORT_DIR" "results/$NAME.txt" "$PEERS_OUT" $LOADED
fi

#!/bin/sh
# The committed baseline, its run beside a CPU hog, the peers and the report, as
# made on 2026-12-02 05:39–06:00 UTC (results/REPORT.md). Needs flock(1) and the
# peers (sudo sh scripts/install-peers.sh).
set -eu
cd "$(dirname "$0")/.."
L=${LOCK:-/tmp/embgrad-machine.lock}  # a lock shared with anything else that uses the CPU
echo "start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
flock -x $L go run ./cmd/embgrad bench -name baseline -count 10 -benchtime 100ms -shapes default
echo "go-done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
flock -x $L go run ./cmd/embgrad bench -name baseline-hog1 -hog 1 -count 10 -benchtime 100ms -shapes gpt2 -dists zipf -kernels sharded,tied,simd
echo "hog-done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
flock -x $L env PEERS_ONLY=1 REPORT_DIR=/tmp/peersreport sh bench/peers/run.sh
echo "peers-done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
go run ./cmd/embgrad report results/baseline.txt results/peers-reuse.txt results/peers.txt results/baseline-hog1.txt
echo "report-done $(date -u +%H:%M:%S)"

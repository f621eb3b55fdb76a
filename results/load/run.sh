#!/bin/sh
# Quiet and loaded figures of the parallel kernels, before and after a
# change, interleaved: each round runs every binary once without and once
# beside a CPU hog (-embgrad.hog=1: a busy-loop child process), so slow
# drifts of the machine's load hit both sides alike. Usage:
#
#	go test -c -o /tmp/before.test ./bench   # at the old commit
#	go test -c -o /tmp/after.test ./bench    # at the new one
#	results/load/run.sh ROUNDS OUTDIR /tmp/before.test /tmp/after.test
#
# Each binary's results go to OUTDIR/<binary name>-hog<0|1>.txt, with the
# load average before every run as a "loadavg:" config line; read them with
#
#	benchstat -col /workers OUTDIR/after.test-hog1.txt   (and so on)
set -eu
rounds=$1 out=$2
shift 2
mkdir -p "$out"
for r in $(seq "$rounds"); do
	for hog in 0 1; do
		for bin in "$@"; do
			f="$out/$(basename "$bin")-hog$hog.txt"
			echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$f"
			"$bin" -test.run '^$' -embgrad.check=false -embgrad.hog=$hog \
				-test.bench '^BenchmarkBackward$/^impl=sharded$/^V=50257$/./^N=8192$/^dist=zipf$/^mode=(accumulate|scratch)$|^BenchmarkMemory$/^op=copy$' \
				-test.count 1 -test.benchtime 100ms | grep -v '^PASS' >>"$f"
			"$bin" -test.run '^$' -embgrad.hog=$hog -test.bench '^BenchmarkTiedWorkers$' \
				-test.count 1 -test.benchtime 3x | grep -v '^PASS' >>"$f"
		done
	done
done

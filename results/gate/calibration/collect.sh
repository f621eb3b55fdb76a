#!/bin/sh
# Collects the sample pool of the gate calibration: ROUNDS runs of the
# workflow's benchmarks (.github/workflows/bench.yml: every kernel on GPT-2,
# Zipf ids, accumulate mode, all worker counts; -benchtime 200ms,
# -benchmem), one sample per benchmark and run, with the same code every
# time (A/A). Every KNOBth round also runs once with -embgrad.slowdown=10, a
# live check of the injected slowdown that the resampling scales samples by.
# Usage (the binary built from the commit under test):
#
#	go test -c -o /tmp/bench.test ./bench
#	results/gate/calibration/collect.sh /tmp/bench.test 40 4 OUTDIR
set -eu
bin=$1 rounds=$2 knob=$3 out=$4
mkdir -p "$out"
pat='^BenchmarkBackward$/./^V=50257$/^D=768$/^N=8192$/^dist=zipf$/^mode=accumulate$'
for r in $(seq "$rounds"); do
	for slow in 0 10; do
		if [ "$slow" = 10 ] && [ $((r % knob)) != 0 ]; then
			continue
		fi
		f="$out/pool-slow$slow.txt"
		{
			echo "round: $r"
			echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
			"$bin" -test.run '^$' -test.bench "$pat" -test.count 1 -test.benchtime 200ms -test.benchmem \
				-embgrad.check=false -embgrad.slowdown=$slow | grep -v '^PASS'
		} >>"$f"
	done
done

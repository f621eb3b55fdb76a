#!/bin/sh
# Collects a paired sample pool for the gate calibration, the way
# `embgrad gate -base` runs: PAIRS pairs of runs of the workflow's benchmarks
# (.github/workflows/bench.yml: every kernel on GPT-2, Zipf ids, accumulate
# mode, all worker counts; -benchtime BENCHTIME -benchmem), one process per
# run, the two runs of a pair back to back in ABBA order (pair 1 OLD NEW,
# pair 2 NEW OLD, ...). Both sides run the same binary; NEW runs with
# -embgrad.slowdown=SLOW (0: an A/A pool; 3, 5, 10, 20: the live knob).
# Each run is tagged with config lines pair, side, slowdown, benchtime,
# commit and the load average at its start. The machine lock is taken
# exclusively for CHUNK pairs at a time and released between chunks, so
# other jobs get the machine and one hold stays short.
#
#	go test -c -o /tmp/gate.test ./bench
#	results/gate/calibration/paired/collect.sh /tmp/gate.test COMMIT PAIRS SLOW BENCHTIME CHUNK OUT.txt [FIRST]
set -eu
if [ "$1" = --chunk ]; then # internal: run pairs FROM..TO (under the lock)
	shift
	bin=$1 commit=$2 slow=$3 bt=$4 from=$5 to=$6 out=$7
	pat='^BenchmarkBackward$/./^V=50257$/^D=768$/^N=8192$/^dist=zipf$/^mode=accumulate$'
	one() { # pair side slowdown
		{
			echo "pair: $1"
			echo "side: $2"
			echo "slowdown: $3"
			echo "benchtime: $bt"
			echo "commit: $commit"
			echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
			"$bin" -test.run '^$' -test.bench "$pat" -test.count 1 -test.benchtime "$bt" -test.benchmem \
				-embgrad.check=false -embgrad.slowdown="$3" | grep -v '^PASS'
		} >>"$out"
	}
	for k in $(seq "$from" "$to"); do
		if [ $((k % 2)) = 1 ]; then
			one "$k" old 0; one "$k" new "$slow"
		else
			one "$k" new "$slow"; one "$k" old 0
		fi
	done
	exit 0
fi
bin=$1 commit=$2 pairs=$3 slow=$4 bt=$5 chunk=$6 out=$7 p=${8:-1}
while [ "$p" -le "$pairs" ]; do
	last=$((p + chunk - 1))
	[ "$last" -gt "$pairs" ] && last=$pairs
	flock -x /tmp/embgrad-machine.lock "$0" --chunk "$bin" "$commit" "$slow" "$bt" "$p" "$last" "$out"
	echo "$(date -u +%H:%M:%S) pairs $p-$last of $pairs done ($out)" >&2
	p=$((last + 1))
	sleep 5 # let a waiting job take the lock
done

#!/bin/sh
# Quiet and loaded (an external busy loop, as issue 17 measured) figures of
# sharded before this session (92964ed) and after, interleaved per round.
set -eu
rounds=$1 out=$2; shift 2
mkdir -p "$out"
pat='^BenchmarkBackward$/^impl=sharded$/^V=50257$/./^N=8192$/^dist=zipf$/^mode=(accumulate|scratch)$'
for r in $(seq "$rounds"); do
	for hog in 0 1; do
		hp=
		if [ "$hog" = 1 ]; then sh -c 'while :; do :; done' & hp=$!; fi
		for bin in "$@"; do
			f="$out/$(basename "$bin")-hog$hog.txt"
			echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$f"
			"$bin" -test.run '^$' -embgrad.check=false -test.bench "$pat" -test.count 1 -test.benchtime 100ms | grep -v '^PASS' >>"$f"
		done
		if [ -n "$hp" ]; then kill "$hp"; fi
	done
done

#!/bin/sh
# results/sharded/run.sh [OLD]: the measurements behind impl/sharded's notes on
# scaling (see results/sharded/SCALING.md). Ten rounds, each running every
# benchmark once, so that the machine's drift falls on all of them alike:
#
#   split.txt     impl/sharded BenchmarkSplit: the cost of cutting the work into
#                 parts, and what running them at once gains, for calls back to
#                 back (warm) and after 1 ms of other work (cold); compare ns/call
#   prefetch.txt  impl/sharded BenchmarkPrefetchAhead: prefetch distance 0/1/2/4
#   wake.txt      impl/internal/team BenchmarkWake: how long a helper takes to join
#   backward.txt  bench BenchmarkBackward for sharded at 1 and 2 workers, GPT-2,
#                 uniform and Zipf, both modes; with OLD (a commit), the same
#                 benchmark built from OLD is run in the same rounds, its lines
#                 renamed impl=sharded-old, so benchstat can put the two side by side
#
# and benchstat's summaries beside each. About 8 minutes on 2 cores.
set -eu

# summarise DIR: benchstat's tables of the raw files in DIR (run from DIR, so
# the tables name the files, not the paths). "sh run.sh --summarise" redoes
# only this, from the committed raw files.
summarise() (
	cd "$1"
	stat() { go run golang.org/x/perf/cmd/benchstat "$@"; }
	stat -col /parts -filter '.unit:ns/call' split.txt > split.benchstat
	stat -col /ahead -filter '.unit:sec/op' prefetch.txt > prefetch.benchstat
	stat -filter '.unit:sec/op' wake.txt > wake.benchstat
	stat -col /workers -filter '.unit:sec/op' backward.txt > backward.benchstat
	if grep -q impl=sharded-old backward.txt; then
		stat -col /impl -filter '.unit:sec/op' backward.txt > backward-old.benchstat
	fi
)
if [ "${1:-}" = --summarise ]; then
	summarise "$(dirname "$0")"
	exit
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/results/sharded
bin=$(mktemp -d)
trap '[ -z "${old:-}" ] || git -C "$root" worktree remove --force "$bin/old"; rm -rf "$bin"' EXIT
cd "$root"
go test -c -o "$bin/sharded.test" ./impl/sharded
go test -c -o "$bin/team.test" ./impl/internal/team
go test -c -o "$bin/bench.test" ./bench
old=${1:-}
if [ -n "$old" ]; then
	git worktree add --detach "$bin/old" "$old" >/dev/null
	(cd "$bin/old" && go test -c -o "$bin/bench-old.test" ./bench)
fi
backward='BenchmarkBackward/impl=sharded/V=50257/D=768/N=8192/dist=(uniform|zipf)/mode=(accumulate|scratch)/workers=(1|2)$'
rm -f "$out"/split.txt "$out"/prefetch.txt "$out"/wake.txt "$out"/backward.txt
for round in 1 2 3 4 5 6 7 8 9 10; do
	echo "round $round $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	(cd impl/sharded && "$bin/sharded.test" -test.run '^$' -test.bench 'Split' -test.benchtime 200x >> "$out/split.txt")
	(cd impl/sharded && "$bin/sharded.test" -test.run '^$' -test.bench 'PrefetchAhead' -test.benchtime 200x >> "$out/prefetch.txt")
	(cd impl/internal/team && "$bin/team.test" -test.run '^$' -test.bench 'Wake' -test.benchtime 2000x >> "$out/wake.txt")
	(cd bench && "$bin/bench.test" -test.run '^$' -test.bench "$backward" -test.benchtime 200x -embgrad.shapes gpt2 >> "$out/backward.txt")
	if [ -n "$old" ]; then
		(cd bench && "$bin/bench-old.test" -test.run '^$' -test.bench "$backward" -test.benchtime 200x -embgrad.shapes gpt2 |
			sed 's/impl=sharded/impl=sharded-old/' >> "$out/backward.txt")
	fi
done
summarise "$out"

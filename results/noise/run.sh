#!/bin/bash
# The noise study of results/noise/NOISE.md (issue 17 item 5), one phase per
# call, from the module root:
#
#   results/noise/run.sh build          # go test -c ./bench (shared lock)
#   results/noise/run.sh PHASE [N]      # one exclusive hold of the machine lock
#
# PHASE is warmup, huge, idle, gctrace, within, benchtime or final. Each A/B
# phase runs N (default 12) processes of each side in ABBA order (A B B A
# ...), every process the same small set of benchmarks: GPT-2 / Zipf,
# accumulate and scratch, for simd, scatter, sharded at 1 and 2 workers,
# BenchmarkMemory op=copy at 1 and 2 threads, and (from the idle phase on)
# BenchmarkPeak isa=avx512, the compute-only control. Each process's output is
# appended to raw/<phase>/<side>.txt after config lines naming the side
# ("setting:"), the process ("proc:") and the load average at its start
# ("loadavg:"). Summarise with
#
#   go run ./bench/internal/noisestudy results/noise/raw/<phase>/*.txt
set -euo pipefail
BIN=${BIN:-/tmp/noise-bench.test}
LOCK=/tmp/embgrad-machine.lock
RAW=results/noise/raw
PAT='^BenchmarkBackward$/^impl=(simd|scatter|sharded)$/^V=50257$/./^N=8192$/^dist=zipf$|^BenchmarkMemory$/^op=copy$|^BenchmarkPeak$/^isa=avx512$'
ARGS=(-test.run='^$' -test.benchmem -embgrad.shapes=gpt2 -embgrad.check=false -test.bench="$PAT")

phase=${1:?usage: run.sh build | PHASE [N]}
n=${2:-12}

if [ "$phase" = build ]; then
	(cd bench && flock -s "$LOCK" go test -c -o "$BIN" .)
	exit 0
fi
if [ "${NOISE_LOCKED:-}" != 1 ]; then
	# Re-run this script inside one exclusive hold of the machine lock.
	NOISE_LOCKED=1 exec flock -x "$LOCK" "$0" "$@"
fi

mkdir -p "$RAW/$phase"
proc=0
# side LABEL BENCHTIME COUNT ENV-ASSIGNMENTS... -- EXTRA-ARGS...: one process.
side() {
	local label=$1 bt=$2 count=$3
	shift 3
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	proc=$((proc + 1))
	local out="$RAW/$phase/$label.txt" la s0 s1 t0 t1 res
	la=$(cut -d' ' -f1-3 /proc/loadavg)
	read -r -a s0 < <(head -1 /proc/stat)
	t0=$(date +%s%N)
	res=$(cd bench && env "${envs[@]}" "${SIDEBIN:-$BIN}" "${ARGS[@]}" -test.benchtime="$bt" -test.count="$count" "$@" 2>&1)
	t1=$(date +%s%N)
	read -r -a s1 < <(head -1 /proc/stat)
	{
		echo "setting: $label"
		echo "proc: $phase-$proc"
		echo "loadavg: $la"
		# steal: CPU time the hypervisor gave to others while this process
		# ran (the 8th field of /proc/stat's cpu line, in ticks of 10 ms),
		# and busy: non-idle CPUs over the process's wall time.
		echo "steal-ms: $(((s1[8] - s0[8]) * 10))"
		echo "busy-cpus: $(awk -v a="$(((s1[1] + s1[2] + s1[3] + s1[6] + s1[7] + s1[8]) - (s0[1] + s0[2] + s0[3] + s0[6] + s0[7] + s0[8])))" -v w="$(((t1 - t0) / 1000000))" 'BEGIN { printf "%.2f", a * 10 / w }')"
		echo "$res"
	} >>"$out"
}

# ab LABEL-A LABEL-B: N processes each, ABBA; the sides are the functions
# side_A and side_B defined by the phase.
ab() {
	for ((i = 0; i < n; i++)); do
		if ((i % 2 == 0)); then side_A; side_B; else side_B; side_A; fi
	done
}

start=$(date +%s)
echo "phase $phase: start $(date -u +%FT%TZ), loadavg $(cat /proc/loadavg)" | tee -a "$RAW/$phase.log"
case $phase in
warmup) # the first calls of each sample, untimed or not
	side_A() { side default 100ms 1 -- ; }
	side_B() { side warmup20ms 100ms 1 -- -embgrad.warmup=20ms; }
	ab ;;
huge) # 4 KB pages (Go's heap) or transparent huge pages for the buffers
	side_A() { side default 100ms 1 -- ; }
	side_B() { side hugepages 100ms 1 -- -embgrad.hugepages; }
	ab ;;
idle) # vCPU idle states: /dev/cpu_dma_latency held at 0 keeps idle vCPUs polling
	side_A() { side default 100ms 1 -- ; }
	side_B() { exec 3>/dev/cpu_dma_latency; printf '\0\0\0\0' >&3; side cpulatency0 100ms 1 -- ; exec 3>&-; }
	ab ;;
gctrace) # does any GC cycle run while a benchmark is timed?
	side_A() { side gctrace 100ms 1 GODEBUG=gctrace=1 -- ; }
	for ((i = 0; i < n; i++)); do side_A; done ;;
within) # samples within a process (-test.count) against samples across processes
	side_A() { side count6 100ms 6 -- ; }
	for ((i = 0; i < n; i++)); do side_A; done ;;
benchtime) # few long samples or many short ones, same processes
	side_A() { side bt100ms 100ms 1 -- ; }
	side_B() { side bt500ms 500ms 1 -- ; }
	ab ;;
final) # the adopted change (runtime.GC after the buffers' allocation) against
	# the binary before it, $OLDBIN (go test -c of ./bench at c5ec875)
	side_A() { SIDEBIN=${OLDBIN:?set OLDBIN} side old 100ms 1 -- ; }
	side_B() { side new 100ms 1 -- ; }
	for ((i = 0; i < 2; i++)); do SIDEBIN=$OLDBIN side gctrace-old 100ms 1 GODEBUG=gctrace=1 -- ; side gctrace-new 100ms 1 GODEBUG=gctrace=1 -- ; done
	ab ;;
*) echo "run.sh: unknown phase $phase" >&2; exit 2 ;;
esac
echo "phase $phase: end $(date -u +%FT%TZ) after $(($(date +%s) - start)) s, loadavg $(cat /proc/loadavg)" | tee -a "$RAW/$phase.log"

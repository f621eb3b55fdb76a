#!/bin/sh
# The peers of results/sparse (BenchmarkSparse torch-sparse-coalesce and the
# BenchmarkStep torch peers), as run for the committed files, from the
# repository root. IDS is the dumpids output shared by every run:
#	go run ./bench/peers/dumpids -out $IDS -shapes gpt2 -sparse all
# The machine was shared (load 5–9 on 2 cores), so the runs are cut to what
# the targets need: the sparse backward on every GPT-2 distribution, the
# steps on Zipf ids only.
set -eu
IDS=${IDS:-/tmp/sparse-ids}
PY=/usr/bin/python3
F="-ids $IDS -count 6 -benchtime 100ms"
REUSE="MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912"
# torch-sparse-coalesce on GPT-2 (uniform, zipf, text) and the V sweep.
$PY bench/peers/peers.py $F -families sparse -shape '^(gpt2|v1e4|v1e5|v1e6)$' -o results/sparse/peers-sparse.txt
# The step peers on Zipf ids: GPT-2 and the sweep, then Llama-3 (2.1 GB per
# dense tensor; torch-dense-adagrad needs about 8.7 GB and is skipped by
# -max-gb 8).
$PY bench/peers/peers.py $F -families step -dist '^zipf$' -shape '^(gpt2|v1e4|v1e5|v1e6)$' -o results/sparse/peers-step.txt
$PY bench/peers/peers.py $F -families sparse,step -dist '^zipf$' -shape '^llama3$' -o results/sparse/peers-llama3.txt
# The dense step peers again with glibc keeping freed memory (run.sh's
# reuse settings): impl=torch-dense-sgd-reuse, torch-dense-adagrad-reuse.
env $REUSE $PY bench/peers/peers.py $F -families step -impl '^torch-dense-' -variant reuse -dist '^zipf$' \
	-shape '^(gpt2|v1e4|v1e5|v1e6|llama3)$' -o results/sparse/peers-reuse.txt

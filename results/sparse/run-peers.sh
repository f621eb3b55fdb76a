#!/bin/sh
# The peers of results/sparse (BenchmarkSparse torch-sparse-coalesce and the
# BenchmarkStep torch peers), as run for the committed files, from the
# repository root. IDS is the dumpids output shared by every run:
#	go run ./bench/peers/dumpids -out $IDS -shapes gpt2 -sparse all
# The machine was shared (load 9–17 on 2 cores) and torch's dense steps
# took seconds per call, so the step runs are cut to what the targets
# need: Zipf ids, workers=2, one warm-up call.
#
# Run 1 (done first, kept): torch-sparse-coalesce on GPT-2 (uniform, zipf,
# text) and the V sweep:
#	$PY bench/peers/peers.py -ids $IDS -count 6 -benchtime 100ms -families sparse \
#		-shape '^(gpt2|v1e4|v1e5|v1e6)$' -o results/sparse/loaded/peers-sparse.txt
# Run 2 (stopped part-way for time; its complete rows are kept as
# peers-step-gpt2-partial.txt: GPT-2 Zipf, every step peer at workers=1 and
# torch-dense-sgd at workers=2):
#	$PY bench/peers/peers.py -ids $IDS -count 6 -benchtime 100ms -families step -dist '^zipf$' \
#		-shape '^(gpt2|v1e4|v1e5|v1e6)$' -o results/sparse/loaded/peers-step.txt
set -eu
IDS=${IDS:-/tmp/sparse-ids}
PY=/usr/bin/python3
F="-ids $IDS -count 6 -benchtime 100ms -warmup 1 -workers 2 -dist ^zipf$"
# The dense step peers with glibc keeping freed memory (run.sh's reuse
# settings): impl=torch-dense-sgd-reuse, torch-dense-adagrad-reuse
# (Llama-3's adagrad, about 8.7 GB of tensors, is skipped by -max-gb 8).
env MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 \
	$PY bench/peers/peers.py $F -families step -impl '^torch-dense-' -variant reuse \
	-shape '^(gpt2|v1e4|v1e5|v1e6|llama3)$' -o results/sparse/loaded/peers-reuse.txt
# The sparse step peers (default allocator).
$PY bench/peers/peers.py $F -families step -impl '^torch-sparse-' \
	-shape '^(gpt2|v1e4|v1e5|v1e6|llama3)$' -o results/sparse/loaded/peers-sparse-step.txt
# Llama-3: torch-sparse-coalesce, and torch-dense-sgd with the default allocator.
$PY bench/peers/peers.py $F -families sparse,step -impl '^torch-(sparse-coalesce|dense-sgd)$' \
	-shape '^llama3$' -o results/sparse/loaded/peers-llama3.txt

# Quiet-machine reruns (01:29 UTC on, load below 1 at their start): the
# sparse backward on every sparse shape and distribution, then the step
# peers as above. These are the figures results/sparse/README.md quotes.
#	$PY bench/peers/peers.py -ids $IDS -count 6 -benchtime 100ms -families sparse \
#		-shape '^(gpt2|v1e4|v1e5|v1e6|llama3)$' -o results/sparse/peers-sparse-quiet.txt
#	env MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 \
#		$PY bench/peers/peers.py $F -families step -impl '^torch-dense-' -variant reuse \
#		-shape '^(gpt2|v1e4|v1e5|v1e6|llama3)$' -o results/sparse/peers-reuse-quiet.txt
#	$PY bench/peers/peers.py $F -families step -impl '^torch-(sparse-sgd|sparse-adam|dense-sgd)$' \
#		-shape '^(gpt2|v1e4|v1e5|v1e6|llama3)$' -o results/sparse/peers-step-quiet.txt

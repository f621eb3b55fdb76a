#!/bin/sh
# usage: abrun2.sh OUTDIR ROUNDS PATTERN BIN...   each round: quiet then beside one hog; interleaved binaries
out=$1 rounds=$2 pat=$3; shift 3
mkdir -p $out
for r in $(seq $rounds); do
  for hog in 0 1; do
    hp=
    if [ "$hog" = 1 ]; then sh -c 'while :; do :; done' & hp=$!; fi
    for bin in "$@"; do
      f=$out/$(basename $bin .test)-hog$hog.txt
      echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg)" >> $f
      $bin -test.run '^$' -embgrad.check=false -test.bench "$pat" -test.count 1 -test.benchtime 200ms 2>/dev/null | grep '^Benchmark' >> $f
    done
    if [ -n "$hp" ]; then kill $hp; fi
  done
done

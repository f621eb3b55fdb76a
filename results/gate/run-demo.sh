#!/bin/sh
# run-demo.sh NAME TREE BASE: run the gate -base BASE from TREE into /tmp/gate-proof/NAME*,
# sampling the load average every 10 s while it runs.
name=$1 tree=$2 base=$3
P=/tmp/gate-proof
rm -rf $P/$name $P/$name.*
cd $tree || exit 1
(date -u +%FT%TZ; cat /proc/loadavg) > $P/$name.start
( while [ ! -f $P/$name.exit ]; do echo "$(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)" >> $P/$name.load; sleep 10; done ) &
go run ./cmd/embgrad gate -base $base \
  -bench '^BenchmarkBackward$/^impl=(scatter|simd)$/^V=50257$/^D=768$/^N=8192$/^dist=zipf$/^mode=accumulate$' \
  -count 10 -benchtime 1s -out $P/$name -md $P/$name.md > $P/$name.stdout 2> $P/$name.stderr
echo $? > $P/$name.exit
(date -u +%FT%TZ; cat /proc/loadavg) > $P/$name.end

#!/bin/sh
# The live knob's measured slowdowns: each knobS.txt split into its OLD and
# NEW runs and compared pair by pair with the gate itself (all 20 pairs at
# once, no re-run); the delta column is the median of the per-pair ratios.
# Run from the repository root:
#	sh results/gate/calibration/paired/knob-ratios.sh
set -u
d=results/gate/calibration/paired
go build -o /tmp/embgrad-gate ./cmd/embgrad
for s in 3 5 10 20; do
	for side in old new; do
		awk -v want=$side '/^pair:/{keep=0; buf=$0; next} /^side:/{keep=($2==want); if(keep) print buf} keep' $d/knob$s.txt >/tmp/knob$s-$side.txt
	done
	echo "## knob $s %"
	/tmp/embgrad-gate gate -paired /tmp/knob$s-old.txt /tmp/knob$s-new.txt | grep -E 'sec/op' | sed -n '/All/,$p;1,$p' | awk -F'|' '{print $2 "|" $6 "|" $7}' | sort -u
done

#!/bin/sh
# The calibration tables of results/GATE.md ("paired pool" sections), from
# the pools in this directory. Run from the repository root:
#	sh results/gate/calibration/paired/calibrate.sh
set -eu
d=results/gate/calibration/paired
go build -o /tmp/calib ./gate/internal/calibrate
for n in 10 20 30; do
	/tmp/calib -pool $d/aa.txt -n $n -draws 400 -slow 0,3,5,10,20,50 >$d/aa-n$n.txt
done
/tmp/calib -pool $d/aa.txt -n 10 -extend 40 -screen 1 -draws 400 -slow 0,3,5,10,20,50 >$d/aa-n10-ext40-screen1.txt
/tmp/calib -pool $d/aa.txt -n 20 -extend 60 -screen 1 -draws 400 -slow 0,5,10,20 >$d/aa-n20-ext60-screen1.txt
for s in 3 5 10 20; do
	/tmp/calib -pool $d/knob$s.txt -live -n 10 -draws 400 -slow 0 -target 'impl=scatter/' >$d/knob$s-n10.txt
done

#!/bin/sh
# The calibration tables of results/GATE.md (section "Calibration on a
# paired pool"), from the pools in this directory. Run from the repository
# root (each line wrote the file it names):
#	sh results/gate/calibration/paired/calibrate.sh
set -eu
d=results/gate/calibration/paired
go build -o /tmp/calib ./gate/internal/calibrate
c=/tmp/calib
# A/A pool (150 pairs), injected slowdowns of impl=scatter.
for n in 10 20 30; do
	$c -pool $d/aa.txt -n $n -screen 0.5 -draws 400 -slow 0,3,5,10,20,50 >$d/aa-n$n.txt
done
$c -pool $d/aa.txt -n 10 -extend 40 -screen 1 -draws 400 -slow 0,3,5,10,20,50 >$d/aa-n10-ext40-screen1.txt
$c -pool $d/aa.txt -n 20 -extend 60 -screen 1 -draws 400 -slow 0,5,10,20 >$d/aa-n20-ext60-screen1.txt
$c -pool $d/aa.txt -n 20 -extend 100 -screen 1 -draws 400 -slow 0,5,10 >$d/aa-n20-ext100-screen1.txt
# Live knob pools (NEW with -embgrad.slowdown): detection of impl=scatter.
for s in 3 5 20; do
	$c -pool $d/knob$s.txt -live -n 10 -screen 0.5 -draws 400 -slow 0 -target 'impl=scatter/' >$d/knob$s-n10.txt
done
$c -pool $d/knob10.txt -live -n 10 -extend 40 -screen 1 -draws 400 -slow 0 -target 'impl=scatter/' >$d/knob10-n10-ext40-screen1.txt
$c -pool $d/knob10.txt -live -n 10 -extend 40 -screen 1 -draws 400 -slow 0 -target '.' >$d/knob10-n10-ext40-screen1-any.txt
# The lead's quiet 40-round pool as 20 pairs (every draw uses all 20 pairs
# once extended: the seq columns are one sample, not a rate).
$c -pool results/gate/calibration/quiet/pool.txt -n 10 -extend 10 -screen 1 -draws 400 -slow 0,5,10,20 >$d/quiet40-n10-ext10-screen1.txt

#!/bin/sh
# Fraction of the memory roofline per norm benchmark, from benchstat's
# medians (CSV) of a results file: rownorm and total against op=read at
# threads=w; clip (3·4·V·D bytes: a read pass, then a read+write pass)
# against 12/(4/read + 8/copy) at threads=w.
# Usage: results/norm/roofline.sh results/norm/norm-gpt2.txt
go run golang.org/x/perf/cmd/benchstat -format csv -filter '.unit:B/s' "$1" 2>/dev/null | awk -F, '
/^Memory\/op=read/ { split($1, a, "threads="); split(a[2], t, "-"); read[t[1]] = $2 }
/^Memory\/op=copy/ { split($1, a, "threads="); split(a[2], t, "-"); copy[t[1]] = $2 }
/^Norm\// { n++; name[n] = $1; bs[n] = $2 }
END {
	printf "| benchmark | median GB/s | roofline GB/s | fraction |\n|---|---|---|---|\n"
	for (i = 1; i <= n; i++) {
		split(name[i], a, "workers="); split(a[2], t, "-"); w = t[1]
		r = read[w]
		if (name[i] ~ /op=clip/) r = 12 / (4 / read[w] + 8 / copy[w])
		printf "| %s | %.2f | %.2f | %.0f %% |\n", name[i], bs[i] / 1e9, r / 1e9, 100 * bs[i] / r
	}
}'

package benchfile

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Units the embgrad benchmarks report besides go test's own.
const (
	TokensPerSec = "tokens/s" // ids processed per second
	GFLOPPerSec  = "GFLOP/s"  // the tied benchmarks' output projection
)

// KnownBetter returns the direction of a unit whose meaning is known: +1
// when higher is better, -1 when lower is, 0 for a unit it does not know.
// These are benchfmt's defaults (sec/op, B/op, allocs/op lower; B/s higher)
// and every tidied rate ending in "/s" (tokens/s, GFLOP/s, ...), which is a
// speed. Metadata contradicting it is refused by Read.
func KnownBetter(unit string) int {
	if b := (benchfmt.UnitMetadataMap{}).GetBetter(unit); b != 0 {
		return b
	}
	if strings.HasSuffix(unit, "/s") {
		return 1
	}
	return 0
}

// WriteUnitLines writes a "Unit U better=higher" line for every rate unit
// (tidied, ending in "/s") of the results, in first-seen order: go test
// prints no unit metadata, and a reader that does not know a custom rate
// would otherwise have to guess its direction.
func WriteUnitLines(w io.Writer, results []*benchfmt.Result) error {
	var rates []string
	for _, r := range results {
		for _, v := range r.Values {
			if strings.HasSuffix(v.Unit, "/s") && !slices.Contains(rates, v.Unit) {
				rates = append(rates, v.Unit)
			}
		}
	}
	for _, u := range rates {
		if _, err := fmt.Fprintf(w, "Unit %s better=higher\n", u); err != nil {
			return err
		}
	}
	return nil
}

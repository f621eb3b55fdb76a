package main

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/perf/benchfmt"
)

// gatePool writes to out the results of first whose benchmark is one of
// names, followed by every result of rerun: the suspects' samples of both
// runs, for -confirm pooled. Unit metadata lines are kept.
func gatePool(first, rerun, out string, names []string) error {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var buf bytes.Buffer
	w := benchfmt.NewWriter(&buf)
	for i, path := range []string{first, rerun} {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		rd := benchfmt.NewReader(f, path)
		for rd.Scan() {
			switch r := rd.Result().(type) {
			case *benchfmt.Result:
				if i == 0 && !keep["Benchmark"+string(r.Name.Full())] {
					continue
				}
				err = w.Write(r)
			case *benchfmt.UnitMetadata:
				err = w.Write(r)
			case *benchfmt.SyntaxError:
				err = r
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("pooling %s: %w", path, err)
			}
		}
		f.Close()
		if err := rd.Err(); err != nil {
			return err
		}
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

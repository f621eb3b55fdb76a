// Package benchfile reads and writes embgrad's benchmark result files:
// benchfmt text (golang.org/x/perf/benchfmt) with config lines and unit
// metadata. It is the one reader of that format for every command (the
// benchmark runner reading back what it wrote, the report and the gate),
// and it is strict: a file it returns is complete and every value in it is
// a measurement a comparison can use.
//
// Read refuses, naming file and line: syntax errors; lines showing that
// the run failed (--- FAIL, FAIL, panic:, fatal error:); binary data; a
// benchmark line cut off at the end of the file (no final newline, even if
// what is left parses); a result whose units differ from the benchmark's
// other results (a line cut inside the file); 0 iterations; non-finite or
// negative values, and a time per op of zero; unit metadata with values
// other than better=higher|lower and assume=nothing|exact, or a direction
// contradicting a known unit (KnownBetter). An empty file or one without
// result lines is refused too.
package benchfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchunit"
)

// File is one result file, read in full.
type File struct {
	// Path names the file in messages.
	Path string
	// Results are the benchmark results in file order (each keeps its
	// position: Pos names the file and line).
	Results []*benchfmt.Result
	// Units is the file's unit metadata.
	Units benchfmt.UnitMetadataMap
	// Lines are the file's lines without their newlines, for writers that
	// copy result lines as they were printed (Lines[line-1]).
	Lines [][]byte
}

// Config returns the value of a config key of the first result that has
// it ("" if none has).
func (f *File) Config(key string) string {
	for _, r := range f.Results {
		if v := r.GetConfig(key); v != "" {
			return v
		}
	}
	return ""
}

// maxBad bounds how many bad lines one error message lists.
const maxBad = 10

// ReadFile reads the file at path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return Read(path, fh)
}

// Read reads a result file from r; name names it in messages.
func Read(name string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: read error: %w", name, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty file (no benchmark results)", name)
	}
	f := &File{Path: name}
	var bad []string
	nbad := 0
	fail := func(format string, args ...any) {
		nbad++
		if len(bad) < maxBad {
			bad = append(bad, fmt.Sprintf(format, args...))
		}
	}
	f.Lines = bytes.Split(data, []byte("\n"))
	lines := f.Lines
	// Lines benchfmt would skip but that mean the run did not complete
	// or the file is not benchmark output.
	for i, line := range lines {
		switch {
		case bytes.HasPrefix(line, []byte("--- FAIL")), bytes.HasPrefix(line, []byte("FAIL")),
			bytes.HasPrefix(line, []byte("panic: ")), bytes.HasPrefix(line, []byte("fatal error: ")):
			fail("%s:%d: the benchmark run failed: %s", name, i+1, trim(line))
		case isBinary(line):
			fail("%s:%d: binary data, not benchmark output", name, i+1)
		}
	}
	// A last line without its newline was cut off, even when what is left
	// parses (a cut after a value loses the units that followed).
	cut := 0
	if last := lines[len(lines)-1]; bytes.HasPrefix(last, []byte("Benchmark")) {
		cut = len(lines)
	}
	firstUnits := map[string]int{} // benchmark name -> line of its first result
	br := benchfmt.NewReader(bytes.NewReader(data), name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			if rec.Line != cut {
				fail("%s", rec.Error())
			}
		case *benchfmt.UnitMetadata:
			if msg := checkUnitMetadata(rec); msg != "" {
				fail("%s", msg)
			}
		case *benchfmt.Result:
			file, line := rec.Pos()
			if line == cut {
				continue // reported below
			}
			res := rec.Clone()
			f.Results = append(f.Results, res)
			if res.Iters <= 0 {
				fail("%s:%d: Benchmark%s: %d iterations (a result needs at least 1)", file, line, res.Name, res.Iters)
			}
			for _, v := range res.Values {
				val, unit := v.Value, v.Unit
				if v.OrigUnit != "" {
					val, unit = v.OrigValue, v.OrigUnit
				}
				switch {
				case math.IsNaN(v.Value) || math.IsInf(v.Value, 0):
					fail("%s:%d: Benchmark%s: value %v %s is not a finite number", file, line, res.Name, val, unit)
				case v.Value < 0:
					fail("%s:%d: Benchmark%s: value %v %s is negative", file, line, res.Name, val, unit)
				case v.Value == 0 && tidy(v.Unit) == "sec/op":
					fail("%s:%d: Benchmark%s: value %v %s: no operation takes no time", file, line, res.Name, val, unit)
				case v.Value == 0 && strings.HasSuffix(tidy(v.Unit), "/s"):
					// A zero rate with a finite time is no measurement; and
					// benchfmt would keep its unit untidied (MB/s beside B/s).
					fail("%s:%d: Benchmark%s: value %v %s: a rate of zero is no measurement", file, line, res.Name, val, unit)
				}
			}
			full := string(res.Name.Full())
			if first, ok := firstUnits[full]; !ok {
				firstUnits[full] = len(f.Results) - 1
			} else if u0, u := units(f.Results[first]), units(res); !slices.Equal(u0, u) {
				_, l0 := f.Results[first].Pos()
				fail("%s:%d: Benchmark%s: units %s, but line %d has %s (a cut or mixed line)",
					file, line, res.Name, strings.Join(u, " "), l0, strings.Join(u0, " "))
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, fmt.Errorf("%s: read error: %w", name, err)
	}
	if cut > 0 {
		fail("%s:%d: truncated benchmark line at end of file: %s", name, cut, trim(lines[cut-1]))
	}
	if nbad > 0 {
		msg := fmt.Sprintf("%s: cannot use these results (%d bad line(s)):\n\t%s", name, nbad, strings.Join(bad, "\n\t"))
		if nbad > len(bad) {
			msg += fmt.Sprintf("\n\t... and %d more", nbad-len(bad))
		}
		return nil, errors.New(msg)
	}
	if len(f.Results) == 0 {
		return nil, fmt.Errorf("%s: no benchmark result lines in %d bytes (not Go benchmark output?)", name, len(data))
	}
	f.Units = br.Units()
	return f, nil
}

// units returns the result's tidied units in order.
func units(r *benchfmt.Result) []string {
	u := make([]string, len(r.Values))
	for i, v := range r.Values {
		u[i] = tidy(v.Unit)
	}
	return u
}

// tidy returns the tidied unit: benchfmt leaves a zero value's unit as
// written (0 ns/op stays ns/op, not sec/op).
func tidy(unit string) string {
	_, u := benchunit.Tidy(1, unit)
	return u
}

// isBinary reports whether a line holds bytes no benchmark output has:
// invalid UTF-8 or control characters other than tab and carriage return.
func isBinary(line []byte) bool {
	if !utf8.Valid(line) {
		return true
	}
	for _, c := range line {
		if c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			return true
		}
	}
	return false
}

// checkUnitMetadata validates the metadata keys the gate relies on: a typo
// in "better=" would otherwise silently flip or drop a unit's direction,
// and a direction against a known unit's would turn slower into better.
func checkUnitMetadata(u *benchfmt.UnitMetadata) string {
	file, line := u.Pos()
	switch u.Key {
	case "better":
		if u.Value != "higher" && u.Value != "lower" {
			return fmt.Sprintf("%s:%d: unit %s: better=%s (want better=higher or better=lower)", file, line, u.OrigUnit, u.Value)
		}
		if k := KnownBetter(u.Unit); k != 0 && k != betterValue(u.Value) {
			return fmt.Sprintf("%s:%d: unit %s: better=%s, but %s is %s-is-better", file, line, u.OrigUnit, u.Value, u.OrigUnit, betterWord(k))
		}
	case "assume":
		if u.Value != "nothing" && u.Value != "exact" {
			return fmt.Sprintf("%s:%d: unit %s: assume=%s (want assume=nothing or assume=exact)", file, line, u.OrigUnit, u.Value)
		}
	}
	return ""
}

func betterValue(v string) int {
	if v == "higher" {
		return 1
	}
	return -1
}

func betterWord(b int) string {
	if b > 0 {
		return "higher"
	}
	return "lower"
}

func trim(line []byte) string {
	const max = 120
	s := strings.TrimSpace(string(line))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

package gate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchproc"
)

// Data is a pair of benchmark result sets read for one comparison: OLD (the
// baseline) and NEW (the candidate). Build it with Load or Read; it keys
// every measurement by benchmark full name and (tidied) unit through one
// benchproc projection shared by both sides.
type Data struct {
	Old, New *Side

	proj      *benchproc.Projection
	nameField *benchproc.Field
	unitField *benchproc.Field
	residue   *benchproc.Projection
	keys      []benchproc.Key // every (name, unit) key seen on either side
}

// Side is one result set (one file).
type Side struct {
	// Path names the file in messages.
	Path string
	// Results counts benchmark result lines.
	Results int

	values  map[benchproc.Key][]float64
	names   map[string]bool
	units   benchfmt.UnitMetadataMap
	residue map[string][]benchproc.Key // per benchmark name: config residue of each result
	config  map[string]string          // first value of a few config keys (cpu, goos, goarch)
}

// maxSyntaxErrors bounds how many malformed lines one error message lists.
const maxSyntaxErrors = 10

// Load reads the OLD and NEW benchfmt files at the given paths. Any problem
// — a missing, unreadable, empty or malformed file, a non-finite value, bad
// unit metadata — is an error that names the file (and line); Load never
// returns partial data.
func Load(oldPath, newPath string) (*Data, error) {
	of, err := os.Open(oldPath)
	if err != nil {
		return nil, fmt.Errorf("OLD results: %w", err)
	}
	defer of.Close()
	nf, err := os.Open(newPath)
	if err != nil {
		return nil, fmt.Errorf("NEW results: %w", err)
	}
	defer nf.Close()
	return Read(oldPath, of, newPath, nf)
}

// Read is Load on readers; the names are used in messages.
func Read(oldName string, oldR io.Reader, newName string, newR io.Reader) (*Data, error) {
	d := &Data{}
	var parser benchproc.ProjectionParser
	proj, unitField, err := parser.ParseWithUnit(".fullname", nil)
	if err != nil {
		return nil, err // cannot happen: constant expression
	}
	d.proj, d.unitField, d.nameField = proj, unitField, proj.Fields()[0]
	d.residue = parser.Residue()

	seen := map[benchproc.Key]bool{}
	if d.Old, err = d.readSide(oldName, oldR, seen); err != nil {
		return nil, err
	}
	if d.New, err = d.readSide(newName, newR, seen); err != nil {
		return nil, err
	}
	benchproc.SortKeys(d.keys) // first-observed order: OLD's order, then NEW's additions
	return d, nil
}

func (d *Data) readSide(name string, r io.Reader, seen map[benchproc.Key]bool) (*Side, error) {
	s := &Side{
		Path:    name,
		values:  map[benchproc.Key][]float64{},
		names:   map[string]bool{},
		residue: map[string][]benchproc.Key{},
		config:  map[string]string{},
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: read error: %w", name, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty file (no benchmark results)", name)
	}
	var bad []string
	nbad := 0
	fail := func(msg string) {
		nbad++
		if len(bad) < maxSyntaxErrors {
			bad = append(bad, msg)
		}
	}
	// Lines benchfmt would skip but that mean the run did not complete:
	// a failed benchmark or test, a panic, or a cut-off last line.
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		switch {
		case bytes.HasPrefix(line, []byte("--- FAIL")), bytes.HasPrefix(line, []byte("FAIL")),
			bytes.HasPrefix(line, []byte("panic: ")), bytes.HasPrefix(line, []byte("fatal error: ")):
			fail(fmt.Sprintf("%s:%d: the benchmark run failed: %s", name, i+1, trim(line)))
		}
	}
	lastLine := 0 // the last line, if it has no newline and holds a benchmark name
	if last := lines[len(lines)-1]; len(last) > 0 && bytes.HasPrefix(last, []byte("Benchmark")) {
		lastLine = len(lines)
	}
	br := benchfmt.NewReader(bytes.NewReader(data), name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			fail(rec.Error())
		case *benchfmt.UnitMetadata:
			if msg := checkUnitMetadata(rec); msg != "" {
				fail(msg)
			}
		case *benchfmt.Result:
			s.Results++
			file, line := rec.Pos()
			if line == lastLine {
				lastLine = 0 // the unterminated last line parsed as a whole result
			}
			for _, v := range rec.Values {
				if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
					val, unit := v.Value, v.Unit
					if v.OrigUnit != "" {
						val, unit = v.OrigValue, v.OrigUnit
					}
					fail(fmt.Sprintf("%s:%d: Benchmark%s: value %v %s is not a finite number", file, line, rec.Name, val, unit))
				}
			}
			for _, k := range []string{"goos", "goarch", "cpu"} {
				if _, ok := s.config[k]; !ok {
					if v := rec.GetConfig(k); v != "" {
						s.config[k] = v
					}
				}
			}
			keys := d.proj.ProjectValues(rec)
			bname := "Benchmark" + keys[0].Get(d.nameField)
			s.names[bname] = true
			s.residue[bname] = append(s.residue[bname], d.residue.Project(rec))
			for i, k := range keys {
				if !seen[k] {
					seen[k] = true
					d.keys = append(d.keys, k)
				}
				s.values[k] = append(s.values[k], rec.Values[i].Value)
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, fmt.Errorf("%s: read error: %w", name, err)
	}
	if lastLine > 0 {
		fail(fmt.Sprintf("%s:%d: truncated benchmark line at end of file: %s", name, lastLine, trim(lines[lastLine-1])))
	}
	if nbad > 0 {
		msg := fmt.Sprintf("%s: cannot use these results (%d bad line(s)):\n\t%s", name, nbad, strings.Join(bad, "\n\t"))
		if nbad > len(bad) {
			msg += fmt.Sprintf("\n\t... and %d more", nbad-len(bad))
		}
		return nil, errors.New(msg)
	}
	if s.Results == 0 {
		return nil, fmt.Errorf("%s: no benchmark result lines in %d bytes (not Go benchmark output?)", name, len(data))
	}
	s.units = br.Units()
	return s, nil
}

// checkUnitMetadata validates the metadata keys the gate relies on: a typo
// in "better=" would otherwise silently flip or drop a unit's direction.
func checkUnitMetadata(u *benchfmt.UnitMetadata) string {
	file, line := u.Pos()
	switch u.Key {
	case "better":
		if u.Value != "higher" && u.Value != "lower" {
			return fmt.Sprintf("%s:%d: unit %s: better=%s (want better=higher or better=lower)", file, line, u.OrigUnit, u.Value)
		}
	case "assume":
		if u.Value != "nothing" && u.Value != "exact" {
			return fmt.Sprintf("%s:%d: unit %s: assume=%s (want assume=nothing or assume=exact)", file, line, u.OrigUnit, u.Value)
		}
	}
	return ""
}

func trim(line []byte) string {
	const max = 120
	s := strings.TrimSpace(string(line))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

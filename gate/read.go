package gate

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchproc"

	"github.com/embgrad/embgrad/bench/benchfile"
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

// Load reads the OLD and NEW benchfmt files at the given paths with
// benchfile.Read. Any problem — a missing, unreadable, empty, cut or
// malformed file, a failed run, a non-finite, negative or zero-time value,
// bad unit metadata — is an error that names the file (and line); Load
// never returns partial data.
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
	f, err := benchfile.Read(name, r)
	if err != nil {
		return nil, err
	}
	s := &Side{
		Path:    name,
		Results: len(f.Results),
		values:  map[benchproc.Key][]float64{},
		names:   map[string]bool{},
		residue: map[string][]benchproc.Key{},
		config:  map[string]string{},
		units:   f.Units,
	}
	for _, k := range []string{"goos", "goarch", "cpu"} {
		if v := f.Config(k); v != "" {
			s.config[k] = v
		}
	}
	for _, rec := range f.Results {
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
	return s, nil
}

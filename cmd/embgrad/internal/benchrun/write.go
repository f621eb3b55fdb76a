package benchrun

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/embgrad/embgrad/bench/benchfile"
)

// Config is one config line, "key: value"; an empty value is left out.
type Config struct{ Key, Value string }

// Write writes a result file at path from the raw output of go test runs:
// the config lines, go test's own config (goos, goarch, pkg, cpu) from its
// first result, the result lines as go test printed them, and
// better=higher for every rate unit. The raw output is read with
// benchfile's strict reader, and the file is written beside path, read
// back and only then renamed to it. It returns the number of results.
func Write(path string, config []Config, raw []byte) (int, error) {
	f, err := benchfile.Read("go test output", bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	var b bytes.Buffer
	written := map[string]bool{}
	for _, c := range config {
		if c.Value != "" {
			fmt.Fprintf(&b, "%s: %s\n", c.Key, c.Value)
			written[c.Key] = true
		}
	}
	for _, c := range f.Results[0].Config {
		if written[c.Key] {
			continue // ours (the binary's hog line says the same)
		}
		fmt.Fprintf(&b, "%s: %s\n", c.Key, bytes.TrimSpace(c.Value))
	}
	b.WriteByte('\n')
	for _, r := range f.Results {
		_, line := r.Pos()
		b.Write(f.Lines[line-1])
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if err := benchfile.WriteUnitLines(&b, f.Results); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return 0, err
	}
	back, err := benchfile.ReadFile(tmp)
	if err != nil || len(back.Results) != len(f.Results) {
		os.Remove(tmp)
		return 0, fmt.Errorf("reading back %s: %v results of %d: %v", tmp, resultsOf(back), len(f.Results), err)
	}
	return len(f.Results), os.Rename(tmp, path)
}

func resultsOf(f *benchfile.File) int {
	if f == nil {
		return 0
	}
	return len(f.Results)
}

// CheckDir makes dir and checks that a file can be written in it, before a
// run whose results would otherwise be lost at the end.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return inputErrorf("output directory: %v", err)
	}
	f, err := os.CreateTemp(dir, ".embgrad-write-check-")
	if err != nil {
		return inputErrorf("output directory %s is not writable: %v", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

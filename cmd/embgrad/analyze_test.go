package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad -ids file is exit status 2 with an error naming the file and the
// line, and no report is written.
func TestAnalyzeBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("1 2 3\n4 5\n6 seven 8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(&stdout, &stderr, []string{"analyze", "-streams", "", "-ids", bad, "-dir", filepath.Join(dir, "out")})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("err = %v, want exit status 2", err)
	}
	if want := bad + `:3: "seven" is not a token id`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "ANALYZE.md")); err == nil {
		t.Error("a report was written for a bad input")
	}
}

// A small file through the command: the report and its plots are written,
// with the command line beside the figures and progress on stderr.
func TestAnalyzeSmallFile(t *testing.T) {
	dir := t.TempDir()
	ids := filepath.Join(dir, "ids.txt")
	var b strings.Builder
	for i := range 700 {
		b.WriteString(strings.Repeat(" ", i%2) + string(rune('0'+i*i%7)) + "\n")
	}
	if err := os.WriteFile(ids, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"analyze", "-streams", "", "-ids", ids, "-dir", dir, "-D", "3", "-tokens", "300", "-batch", "100", "-steps", "2", "-seq", "8"}
	if err := run(&stdout, &stderr, args); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "ANALYZE.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "`go run ./cmd/embgrad analyze -streams '' -ids " + ids; !strings.Contains(string(md), want) {
		t.Errorf("report lacks the command %s", want)
	}
	if !strings.Contains(stderr.String(), "analyze: file: SGD step 2/2") {
		t.Errorf("no progress lines on stderr: %q", stderr.String())
	}
}

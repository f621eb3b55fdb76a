package benchrun

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckBenchtime(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "100ms": true, "2s": true, "100x": true, "1x": true,
		"abc": false, "0x": false, "-1s": false, "0s": false, "x": false, "10": false, "1.5x": false} {
		err := CheckBenchtime(s)
		var ie *InputError
		if (err == nil) != ok || (err != nil && !errors.As(err, &ie)) {
			t.Errorf("CheckBenchtime(%q) = %v, want ok=%v (an InputError when not)", s, err, ok)
		}
	}
}

// A failing binary's error shows the start of its stderr, where go test
// puts the cause ahead of a long usage text.
func TestRunShowsCause(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	bin := filepath.Join(t.TempDir(), "b.test")
	script := "#!/bin/sh\necho 'invalid value \"abc\" for flag -test.benchtime: parse error' >&2\n" +
		"i=0; while [ $i -lt 200 ]; do echo \"  -test.flag$i usage\" >&2; i=$((i+1)); done\nexit 2\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := Binary{Path: bin, Dir: t.TempDir()}.Run(context.Background(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), `invalid value "abc" for flag -test.benchtime`) {
		t.Errorf("error %v lacks the cause", err)
	}
}

// Write keeps the result lines as printed, adds the config and the rate
// units' direction, and refuses output it could not use.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	raw := "goos: linux\ncpu: X\nBenchmarkA/k=1-2 \t 100\t 1000 ns/op\t 5 widgets/s\nPASS\n"
	path := filepath.Join(dir, "r.txt")
	n, err := Write(path, []Config{{"commit", "abc"}, {"empty", ""}}, []byte(raw))
	if err != nil || n != 1 {
		t.Fatalf("Write: %d, %v", n, err)
	}
	got, _ := os.ReadFile(path)
	want := "commit: abc\ngoos: linux\ncpu: X\n\nBenchmarkA/k=1-2 \t 100\t 1000 ns/op\t 5 widgets/s\n\nUnit widgets/s better=higher\n"
	if string(got) != want {
		t.Errorf("file:\n%q\nwant\n%q", got, want)
	}
	if _, err := Write(filepath.Join(dir, "bad.txt"), nil, []byte("BenchmarkA-2 100 -5 ns/op\n")); err == nil ||
		!strings.Contains(err.Error(), "go test output:1:") {
		t.Errorf("negative time: error %v, want one naming go test output:1", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.txt")); err == nil {
		t.Error("bad output written")
	}
}

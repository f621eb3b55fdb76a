package benchfile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const good = "goos: linux\ncpu: X\n" +
	"BenchmarkA/k=1-2 \t 100\t 1000 ns/op\t 8.5 MB/s\t 0 B/op\t 0 allocs/op\n" +
	"BenchmarkA/k=1-2 \t 100\t 1010 ns/op\t 8.4 MB/s\t 0 B/op\t 0 allocs/op\n" +
	"PASS\nok  \tx\t1.0s\n"

func TestReadGood(t *testing.T) {
	f, err := Read("f.txt", strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	for _, r := range f.Results {
		file, line := r.Pos()
		got = append(got, []any{file, line, string(r.Name), r.Values[0].OrigValue})
	}
	want := [][]any{{"f.txt", 3, "A/k=1-2", 1000.0}, {"f.txt", 4, "A/k=1-2", 1010.0}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("results (-want +got):\n%s", d)
	}
	if f.Config("cpu") != "X" {
		t.Errorf("Config(cpu) = %q", f.Config("cpu"))
	}
}

// Every class of input Read refuses, each named by file and line.
func TestReadRefuses(t *testing.T) {
	line := func(ns string) string {
		return "BenchmarkA/k=1-2 \t 100\t " + ns + " ns/op\t 8.5 MB/s\t 0 B/op\t 0 allocs/op\n"
	}
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", "f.txt: empty file"},
		{"no results", "goos: linux\nPASS\n", "f.txt: no benchmark result lines"},
		{"syntax", "BenchmarkA-2 100 x ns/op\n", "f.txt:1: parsing measurement"},
		{"NaN", line("NaN"), "f.txt:1: BenchmarkA/k=1-2: value NaN ns/op is not a finite number"},
		{"Inf", line("+Inf"), "f.txt:1: BenchmarkA/k=1-2: value +Inf ns/op is not a finite number"},
		{"negative time", line("1000") + line("-99.37"), "f.txt:2: BenchmarkA/k=1-2: value -99.37 ns/op is negative"},
		{"negative rate", "BenchmarkA-2 100 1000 ns/op -3 tokens/s\n", "f.txt:1: BenchmarkA-2: value -3 tokens/s is negative"},
		{"zero time", line("0"), "f.txt:1: BenchmarkA/k=1-2: value 0 ns/op: no operation takes no time"},
		{"zero MB/s", "BenchmarkA-2 100 1000 ns/op 0.00 MB/s\n", "f.txt:1: BenchmarkA-2: value 0 MB/s: a rate of zero is no measurement"},
		{"zero tokens/s", "BenchmarkA-2 100 1000 ns/op 0 tokens/s\n", "f.txt:1: BenchmarkA-2: value 0 tokens/s: a rate of zero"},
		{"zero iterations", "BenchmarkA-2 0 1000 ns/op\n", "f.txt:1: BenchmarkA-2: 0 iterations"},
		{"cut after a value", line("1000") + "BenchmarkA/k=1-2 \t 100\t 99.37 ns/op\t", "f.txt:2: truncated benchmark line at end of file"},
		{"cut mid-value", line("1000") + "BenchmarkA/k=1-2 \t 100\t 99.3", "f.txt:2: truncated benchmark line at end of file"},
		{"units lost inside", line("1000") + "BenchmarkA/k=1-2 \t 100\t 99.37 ns/op\n" + line("1000"),
			"f.txt:2: BenchmarkA/k=1-2: units sec/op, but line 1 has sec/op B/s B/op allocs/op"},
		{"binary junk", good + "\x00\x01\x02\xff\xfe junk\n", "f.txt:7: binary data"},
		{"invalid UTF-8", good + "\xff\xfe\n", "f.txt:7: binary data"},
		{"failed", good + "--- FAIL: BenchmarkA\n", "f.txt:7: the benchmark run failed"},
		{"panic", good + "panic: boom\n", "f.txt:7: the benchmark run failed: panic: boom"},
		{"bad better", "Unit tokens/s better=sideways\n" + good, "f.txt:1: unit tokens/s: better=sideways"},
		{"bad assume", "Unit ns/op assume=maybe\n" + good, "f.txt:1: unit ns/op: assume=maybe"},
		{"time better=higher", "Unit ns/op better=higher\n" + good, "f.txt:1: unit ns/op: better=higher, but ns/op is lower-is-better"},
		{"rate better=lower", "Unit tokens/s better=lower\n" + good, "f.txt:1: unit tokens/s: better=lower, but tokens/s is higher-is-better"},
		{"allocs better=higher", "Unit allocs/op better=higher\n" + good, "f.txt:1: unit allocs/op: better=higher"},
	} {
		f, err := Read("f.txt", strings.NewReader(c.text))
		if err == nil {
			t.Errorf("%s: read %d results, want an error naming %q", c.name, len(f.Results), c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v\nwant %q", c.name, err, c.want)
		}
	}
}

func TestKnownBetter(t *testing.T) {
	got := map[string]int{}
	for _, u := range []string{"sec/op", "B/op", "allocs/op", "B/s", TokensPerSec, GFLOPPerSec, "widgets"} {
		got[u] = KnownBetter(u)
	}
	want := map[string]int{"sec/op": -1, "B/op": -1, "allocs/op": -1, "B/s": 1, "tokens/s": 1, "GFLOP/s": 1, "widgets": 0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("KnownBetter (-want +got):\n%s", d)
	}
}

package bench

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/internal/broken"
)

func TestCases(t *testing.T) {
	gpt2, _ := ShapeByName("gpt2")
	var parallel embgrad.Kernel // any embgrad.Parallel kernel will do
	for _, k := range broken.Reordered() {
		if _, ok := k.(embgrad.Parallel); ok {
			parallel = k
		}
	}
	if parallel == nil {
		t.Fatal("no embgrad.Parallel kernel in broken.Reordered")
	}
	cs := Cases([]Shape{gpt2}, []embgrad.Kernel{scatter.Kernel{}, parallel}, 2)
	// 4 dists × (scatter at 1 worker + the parallel kernel at 1 and 2) × 2 modes.
	if len(cs) != 4*3*2 {
		t.Fatalf("%d cases, want 24", len(cs))
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Name()] {
			t.Errorf("duplicate case %s", c.Name())
		}
		seen[c.Name()] = true
	}
	want := "impl=scatter/V=50257/D=768/N=8192/dist=uniform/mode=accumulate/workers=1"
	if cs[0].Name() != want {
		t.Errorf("first case %s, want %s", cs[0].Name(), want)
	}
	if !seen["impl="+parallel.Name()+"/V=50257/D=768/N=8192/dist=text/mode=scratch/workers=2"] {
		t.Error("no workers=2 case for the parallel kernel")
	}
	for p, want := range map[int][]int{1: {1}, 2: {1, 2}, 6: {1, 2, 4, 6}, 8: {1, 2, 4, 8}} {
		if got := WorkerCounts(p); !slices.Equal(got, want) {
			t.Errorf("WorkerCounts(%d) = %v, want %v", p, got, want)
		}
	}
}

func TestPattern(t *testing.T) {
	got := Pattern(Backward, BackwardKeys, map[string][]string{KeyImpl: {"scatter", "a.b"}, KeyDist: {"same"}})
	want := `^BenchmarkBackward$/^impl=(scatter|a\.b)$/./././^dist=(same)$`
	if got != want {
		t.Errorf("Pattern = %q, want %q", got, want)
	}
	if got := Pattern(Memory, MemoryKeys, nil); got != "^BenchmarkMemory$" {
		t.Errorf("Pattern with no filter = %q", got)
	}
}

func TestExactPattern(t *testing.T) {
	names := []string{
		"BenchmarkBackward/impl=scatter/V=50257/D=768/N=8192/dist=zipf/mode=accumulate-2",
		"BenchmarkMemory/op=read/size=268435456",
	}
	got := ExactPattern(names)
	want := `^BenchmarkBackward$/^impl=scatter$/^V=50257$/^D=768$/^N=8192$/^dist=zipf$/^mode=accumulate$|^BenchmarkMemory$/^op=read$/^size=268435456$`
	if got != want {
		t.Errorf("ExactPattern = %q, want %q", got, want)
	}
	for _, p := range strings.Split(got, "|") {
		for _, level := range strings.Split(p, "/") {
			if _, err := regexp.Compile(level); err != nil {
				t.Error(err)
			}
		}
	}
}

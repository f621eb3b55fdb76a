package bench

import (
	"regexp"
	"strings"
	"testing"

	"github.com/embgrad/embgrad/optim"
)

// The step family's names follow StepKeys, and Pattern on its keys selects
// an impl with a '+' in its name (regexp-quoted) and the optimizer key.
func TestStepNames(t *testing.T) {
	name := Step + "/" + Sub(StepKeys, ImplSparseStep, 50257, 768, 8192, Zipf, "adam", 2)
	if want := "BenchmarkStep/impl=sparse+step/V=50257/D=768/N=8192/dist=zipf/optim=adam/workers=2"; name != want {
		t.Fatalf("name = %q, want %q", name, want)
	}
	p := Pattern(Step, StepKeys, map[string][]string{KeyImpl: {ImplSparseStep}, KeyOptim: {"adam"}})
	levels, parts := strings.Split(p, "/"), strings.Split(name, "/")
	for i, l := range levels {
		if !regexp.MustCompile(l).MatchString(parts[i]) {
			t.Errorf("level %d: %q does not select %q", i, l, parts[i])
		}
	}
	if regexp.MustCompile(levels[1]).MatchString("impl=sparsestep") {
		t.Error("the '+' was not quoted")
	}
}

// The bytes model counts state traffic per optimizer and grows with U,
// not with V.
func TestStepBytes(t *testing.T) {
	s := Shape{V: 1000, D: 8, N: 100}
	sgd, ada, adam := stepBytes(s, 10, optim.SGD{}), stepBytes(s, 10, optim.Adagrad{}), stepBytes(s, 10, optim.Adam{})
	if want := int64(4*100 + 4*100*8 + 8*10*8); sgd != want {
		t.Errorf("sgd: %d bytes, want %d", sgd, want)
	}
	if ada-sgd != 8*10 || adam-sgd != 16*10*8 {
		t.Errorf("state bytes: adagrad +%d, adam +%d; want +80, +1280", ada-sgd, adam-sgd)
	}
	big := s
	big.V *= 1000
	if stepBytes(big, 10, optim.SGD{}) != sgd {
		t.Error("the bytes model depends on V")
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
)

// verify lists the registry's optimizer steps as columns of their own,
// selected by -kernel like any kernel.
func TestVerifyListsSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the step suites")
	}
	var out, errb bytes.Buffer
	if err := run(&out, &errb, []string{"verify", "-short", "-kernel", "^(step|fused)-serial$"}); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	text := out.String()
	for _, want := range []string{"step-serial", "fused-serial", "gradcheck/step/reference", "property/step/sparse-then-step", " 0 failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

package main

import (
	"bytes"
	"regexp"
	"testing"
)

// verify lists the registry's bag kernels, with the bag checks as rows.
func TestVerifyListsBagKernels(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(&out, &errb, []string{"verify", "-short", "-kernel", "^bag"}); err != nil {
		t.Fatalf("verify: %v\n%s", err, errb.String())
	}
	for _, row := range []string{`(?m)^check +bagloop +bagsharded$`, `(?m)^bag oracle finite-difference checks: ok$`,
		`(?m)^gradcheck/bag/oracle +ok +ok$`, `(?m)^property/bag/split +ok +ok$`} {
		if !regexp.MustCompile(row).Match(out.Bytes()) {
			t.Errorf("output lacks %s:\n%s", row, out.String())
		}
	}
}

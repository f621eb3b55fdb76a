package main

import (
	"bytes"
	"regexp"
	"testing"
)

// verify lists the registry's norm implementations as columns, with the
// norm and clipping checks as rows.
func TestVerifyListsNorms(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(&out, &errb, []string{"verify", "-short", "-kernel", "^norm-"}); err != nil {
		t.Fatalf("verify: %v\n%s%s", err, out.String(), errb.String())
	}
	for _, row := range []string{`(?m)^check +norm-serial +norm-parallel$`, `(?m)^gradcheck/\S+ +ok +ok$`, `(?m) 0 failed$`} {
		if !regexp.MustCompile(row).Match(out.Bytes()) {
			t.Errorf("output lacks %s:\n%s", row, out.String())
		}
	}
}

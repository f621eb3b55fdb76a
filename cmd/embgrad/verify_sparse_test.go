package main

import (
	"bytes"
	"regexp"
	"testing"
)

// verify lists the registry's sparse kernels, with the sparse checks as rows.
func TestVerifyListsSparseKernels(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(&out, &errb, []string{"verify", "-short", "-kernel", "^sparse-sorted$"}); err != nil {
		t.Fatalf("verify: %v\n%s", err, errb.String())
	}
	for _, row := range []string{`(?m)^check +sparse-sorted$`, `(?m)^gradcheck/sparse/oracle +ok$`, `(?m)^property/sparse/batch-split +ok$`} {
		if !regexp.MustCompile(row).Match(out.Bytes()) {
			t.Errorf("output lacks %s:\n%s", row, out.String())
		}
	}
}

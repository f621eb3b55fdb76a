package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/embgrad/embgrad/internal/extserve"
)

// With EMBGRAD_TEST_SERVE set the test binary is a kernel process
// (extserve.Main on those arguments), so -exec needs no other binary.
func TestMain(m *testing.M) {
	if args := os.Getenv("EMBGRAD_TEST_SERVE"); args != "" {
		os.Exit(extserve.Main(strings.Fields(args), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// serveLine is an -exec command line serving args from this binary.
func serveLine(t *testing.T, args string) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("EMBGRAD_TEST_SERVE='%s' '%s'", args, exe)
}

func TestVerifyExec(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(&out, &errb, []string{"verify", "-short", "-exec", serveLine(t, "-kernel tied")})
	if err != nil {
		t.Fatalf("verify -exec: %v\n%s%s", err, out.String(), errb.String())
	}
	for _, row := range []string{
		`(?m)^check +tied$`,          // the dense form's table
		`(?m)^check +tied \(tied\)$`, // the tied form's, of the same process
		`(?m)^property/guard-bands +n/a$`,
		`(?m)^property/invalid-dst-overlaps-ids +n/a$`,
		`(?m)^gradcheck/tied/invalid-overlap +n/a$`,
		`(?m)^gradcheck/tied/oracle +ok$`,
		`(?m)^n/a tied property/read-only-inputs: changes to inputs cannot be observed: the kernel runs in another process`,
		`(?m)^\d+ passed, 0 failed$`,
	} {
		if !regexp.MustCompile(row).Match(out.Bytes()) {
			t.Errorf("output lacks %s:\n%s", row, out.String())
		}
	}
}

// A broken kernel across the boundary fails verify, named with its case.
func TestVerifyExecCatches(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(&out, &errb, []string{"verify", "-short", "-exec", serveLine(t, "-kernel broken/writes-before-validating")})
	if err == nil {
		t.Fatalf("verify passed a broken kernel:\n%s", out.String())
	}
	if !regexp.MustCompile(`(?m)^FAIL writes-before-validating property/invalid-id-negative:\nwrites-before-validating: V=\d+ D=\d+ ids=\[`).Match(out.Bytes()) {
		t.Errorf("no shrunk case for the failure:\n%s", out.String())
	}
}

// A hung kernel is reported within the time-out: verify fails naming the
// check and the case, and does not wait for the kernel.
func TestVerifyExecHang(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(&out, &errb, []string{"verify", "-short", "-timeout", "300ms", "-exec", serveLine(t, "-kernel loop -fault hang -fault-after 3")})
	if err == nil {
		t.Fatalf("verify passed a hanging kernel:\n%s", out.String())
	}
	if !regexp.MustCompile(`(?m)^FAIL loop gradcheck/oracle:\nloop: V=\d+ D=\d+ N=\d+ .*: kernel process "loop": timed out: no reply within 300ms: the kernel hangs; killed`).Match(out.Bytes()) {
		t.Errorf("the hang is not reported with its check and case:\n%s", out.String())
	}
}

func TestVerifyExecBadCommand(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(&out, &errb, []string{"verify", "-exec", "echo not a kernel"})
	if err == nil || !strings.Contains(err.Error(), "stdout noise") {
		t.Fatalf("err = %v", err)
	}
}

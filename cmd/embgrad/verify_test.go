package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/internal/suite"
)

func TestVerifyTable(t *testing.T) {
	cfg := suite.Config{Seed: 1, Short: true}
	var faulty embgrad.Kernel
	for _, k := range broken.Faulty() {
		if k.Name() == "drops-duplicates" {
			faulty = k
		}
	}
	var out bytes.Buffer
	ran, failed := verifyAll(&out, cfg, kernelSet{dense: []embgrad.Kernel{loop.Kernel{}, faulty}})
	if ran == 0 || failed == 0 || failed == ran {
		t.Fatalf("ran %d, failed %d: want the faulty kernel, and only it, to fail:\n%s", ran, failed, out.String())
	}
	text := out.String()
	for _, want := range []string{"loop", "drops-duplicates", "FAIL drops-duplicates gradcheck/", "passed,"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "FAIL loop") {
			t.Errorf("correct kernel flagged: %s", line)
		}
	}
}

func TestVerifyUnknownKernel(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(&out, &errb, []string{"verify", "-kernel", "^nosuchkernel$"})
	if err == nil || !strings.Contains(err.Error(), "no kernel matches") {
		t.Fatalf("err = %v", err)
	}
}

// verify's flag errors exit 2 like bench's and gate's; -h exits 0.
func TestVerifyFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, ""},
		{[]string{"-nosuchflag"}, 2, "flag provided but not defined"},
		{[]string{"-seed", "x"}, 2, "invalid value"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-kernel", "("}, 2, "-kernel"},
	} {
		var out, errb bytes.Buffer
		err := run(&out, &errb, append([]string{"verify"}, c.args...))
		code := 0
		if err != nil {
			code = 1
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.code
			}
		}
		if code != c.code || (c.want != "" && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("verify %v: exit %d, error %v; want exit %d and %q", c.args, code, err, c.code, c.want)
		}
	}
}

// An explicit -seed 0 runs seed 0 (the suites' default is another seed), so
// a run that printed "seed 0" can be reproduced by flag.
func TestVerifySeedZero(t *testing.T) {
	t.Setenv("EMBGRAD_SEED", "")
	var out, errb bytes.Buffer
	if err := run(&out, &errb, []string{"verify", "-short", "-seed", "0", "-kernel", "^loop$"}); err != nil {
		t.Fatalf("verify -seed 0: %v\n%s", err, errb.String())
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !strings.Contains(first, "seed 0,") {
		t.Errorf("verify -seed 0 printed %q, want seed 0", first)
	}
}

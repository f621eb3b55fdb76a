package main

import (
	"bytes"
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
	ran, failed := verifyAll(&out, cfg, []embgrad.Kernel{loop.Kernel{}, faulty}, nil)
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

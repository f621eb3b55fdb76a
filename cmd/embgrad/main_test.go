package main

import (
	"bytes"
	"errors"
	"testing"
)

// An unknown command is a usage error: exit 2, like every flag error.
func TestUnknownCommandExits2(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(&out, &errb, []string{"bogus"})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("embgrad bogus: err %v, want exit status 2", err)
	}
	if errb.Len() == 0 {
		t.Errorf("embgrad bogus printed no usage on stderr")
	}
}

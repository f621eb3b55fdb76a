package main

import (
	"regexp"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// stepVerify is an optimizer-step kernel's column of the verify table.
type stepVerify struct {
	name   string
	suites map[string][]suite.Check
}

// stepKernels returns the registry's step kernels whose column names match
// re: the registry lists each serial kernel first, shown as <name>-serial.
func stepKernels(re *regexp.Regexp) []stepVerify {
	var out []stepVerify
	label := func(name string, i int) string {
		if i == 0 {
			return name + "-serial"
		}
		return name
	}
	for i, k := range registry.Steppers() {
		if n := label(k.Name(), i); re.MatchString(n) {
			out = append(out, stepVerify{n, map[string][]suite.Check{"gradcheck": gradcheck.StepChecks(k), "property": property.StepChecks(k)}})
		}
	}
	for i, k := range registry.FusedSteps() {
		if n := label(k.Name(), i); re.MatchString(n) {
			out = append(out, stepVerify{n, map[string][]suite.Check{"gradcheck": gradcheck.FusedChecks(k), "property": property.FusedChecks(k)}})
		}
	}
	return out
}

// everyKernel matches every column name.
var everyKernel = regexp.MustCompile("")

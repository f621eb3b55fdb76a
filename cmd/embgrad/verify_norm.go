package main

import (
	"regexp"

	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/registry"
)

// normColumn is a norm implementation's column name in the verify table:
// their names ("serial", "parallel") say nothing of the form on their own.
func normColumn(k gradnorm.Impl) string { return "norm-" + k.Name() }

// normImpls returns the registry's norm implementations whose column names
// match re.
func normImpls(re *regexp.Regexp) []gradnorm.Impl {
	var out []gradnorm.Impl
	for _, k := range registry.Norms() {
		if re.MatchString(normColumn(k)) {
			out = append(out, k)
		}
	}
	return out
}

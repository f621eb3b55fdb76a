#!/bin/sh
# Checks what the README promises an outside kernel author: a module of
# their own that depends on embgrad through a require line and a replace
# directive (the module path is not published), implements embgrad.Kernel
# and passes both suites with one line each. Run from anywhere; exits
# non-zero if any step fails. Used by .ci/run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat >"$dir/go.mod" <<MOD
module example.com/mykernel

go 1.26.0

require github.com/embgrad/embgrad v0.0.0

replace github.com/embgrad/embgrad => $root
MOD

cat >"$dir/mykernel.go" <<'GO'
// Package mykernel is an outside kernel: the reference loop, written against
// the public contract only.
package mykernel

import "github.com/embgrad/embgrad"

type K struct{}

func (K) Name() string { return "outside-loop" }

func (K) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	var count map[int32]int
	if opt.ScaleGradByFreq {
		count = make(map[int32]int)
		for _, id := range ids {
			count[id]++
		}
	}
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		row := dst[int(id)*D : int(id)*D+D]
		g := gradOut[i*D : i*D+D]
		for j := range row {
			if count != nil {
				row[j] += float32(g[j] / float32(count[id]))
			} else {
				row[j] += g[j]
			}
		}
	}
	return nil
}
GO

cat >"$dir/mykernel_test.go" <<'GO'
package mykernel

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/property"
)

func TestGradcheck(t *testing.T) { gradcheck.Test(t, K{}) }
func TestProperty(t *testing.T)  { property.Test(t, K{}) }
GO

cd "$dir"
go mod tidy
go vet ./...
go test -short -count=1 ./...

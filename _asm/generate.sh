#!/bin/sh
# Regenerates the assembly from the avo generators in this module. Run from
# anywhere; CI runs it and then fails on any difference (git diff --exit-code).
set -eu
cd "$(dirname "$0")"
go run ./impl/internal/vec -pkg vec -out ../impl/internal/vec/vec_amd64.s -stubs ../impl/internal/vec/stubs_amd64.go
go run ./impl/internal/half16 -pkg half16 -out ../impl/internal/half16/half16_amd64.s -stubs ../impl/internal/half16/stubs_amd64.go
go run ./impl/tied -pkg tied -out ../impl/tied/tied_amd64.s -stubs ../impl/tied/stubs_amd64.go
go run ./impl/sharded -pkg sharded -out ../impl/sharded/nt_amd64.s -stubs ../impl/sharded/stubs_amd64.go
go run ./bench/internal/peak -pkg peak -out ../bench/internal/peak/peak_amd64.s -stubs ../bench/internal/peak/stubs_amd64.go

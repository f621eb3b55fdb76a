package main

import "github.com/embgrad/embgrad/extkernel/cabi"

// openLib loads a C-ABI kernel library (include/embgrad.h) for -lib.
func openLib(path string) (*lib, error) {
	l, err := cabi.Open(path)
	if err != nil {
		return nil, err
	}
	return &lib{name: l.Name(), dense: l.Kernel(), tied: l.Tied()}, nil
}

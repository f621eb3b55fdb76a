package extkernel_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/embgrad/embgrad/extkernel"
	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

// The Python kernel side (clients/python, numpy only) passes the suites'
// short sizes, when a python3 with numpy is here (skipped otherwise: CI
// needs no Python, the Go kernel process covers the protocol).
func TestPythonNumpyKernel(t *testing.T) {
	py := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with numpy: clients/python not exercised")
	}
	p, err := extkernel.Start([]string{py, "../clients/python/embgrad_kernel.py"}, extkernel.Config{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Name() != "numpy-add-at" || p.Kernel() == nil || p.Tied() == nil {
		t.Fatalf("%q: dense %v, tied %v", p.Name(), p.Kernel(), p.Tied())
	}
	cfg := suite.Config{Short: true}
	for _, rs := range [][]suite.Result{
		gradcheck.Run(p.Kernel(), cfg), property.Run(p.Kernel(), cfg), property.RunTied(p.Tied(), cfg),
	} {
		if err := suite.Join(rs); err != nil {
			t.Error(err)
		}
	}
}

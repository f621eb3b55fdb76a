//go:build !unix

package extkernel

import "os/exec"

func setGroup(*exec.Cmd) {}

func (c *child) kill() {
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
}

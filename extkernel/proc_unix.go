//go:build unix

package extkernel

import (
	"os/exec"
	"syscall"
)

// setGroup puts the process in a group of its own, so that killing it
// kills what it started (a shell's child, an interpreter's workers).
func setGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func (c *child) kill() {
	if c.cmd.Process != nil {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		c.cmd.Process.Kill()
	}
}

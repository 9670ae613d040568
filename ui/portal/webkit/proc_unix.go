//go:build unix

package webkit

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the helper in a process group of its own, with
// the WebKit processes it spawns, so that a kill reaches them all.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the helper's process group.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil && cmd.Process.Pid > 0 {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

//go:build !unix

package webkit

import "os/exec"

// ownProcessGroup does nothing: outside Unix the helper is the stub, which
// spawns nothing.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup does nothing more than the Process.Kill before it.
func killProcessGroup(*exec.Cmd) {}

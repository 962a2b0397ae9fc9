//go:build !unix

package testkit

import (
	"os"
	"os/exec"
)

// Elsewhere than Unix the server is started plainly and only its main
// process is stopped.
func setGroup(*exec.Cmd) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

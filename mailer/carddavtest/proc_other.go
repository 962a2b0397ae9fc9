//go:build !unix

package carddavtest

import (
	"os"
	"syscall"
)

// Radicale runs from Debian's package; elsewhere the server is started
// plainly and only its main process is stopped.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

//go:build !unix

package imaptest

import (
	"os"
	"syscall"
)

// Dovecot runs on Unix only; elsewhere the server is started plainly and
// only its main process is stopped.
func sysProcAttr(*runUser) *syscall.SysProcAttr { return nil }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

//go:build !unix

package imaptest

import "syscall"

// Dovecot runs on Unix only; elsewhere the server is started plainly.
func sysProcAttr(*runUser) *syscall.SysProcAttr { return nil }

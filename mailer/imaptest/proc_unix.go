//go:build unix

package imaptest

import "syscall"

// sysProcAttr runs the server as u when the test runs as root; testkit
// adds the process group of its own.
func sysProcAttr(u *runUser) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if u.switchTo {
		a.Credential = &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: []uint32{}}
	}
	return a
}

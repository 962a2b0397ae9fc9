//go:build unix

package imaptest

import "syscall"

// sysProcAttr starts the server in a process group of its own, as u when
// the test runs as root.
func sysProcAttr(u *runUser) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if u.switchTo {
		a.Credential = &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: []uint32{}}
	}
	return a
}

// killGroup kills the process group that pid leads.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

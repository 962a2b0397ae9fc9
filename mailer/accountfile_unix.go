//go:build unix

package mailer

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// checkOwnFolder refuses a folder another user could write into, and so
// replace the account file in: writable by group or others, or owned by
// someone else.
func checkOwnFolder(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return &UnsafeError{Path: dir, Problem: fmt.Sprintf("cannot be checked (%v)", unwrapPathError(err)), Fix: "ls -ld " + shellQuote(dir)}
	}
	return checkOwner(dir, fi, true)
}

// checkOwnFile refuses an account file another user could have written.
func checkOwnFile(path string, fi os.FileInfo) error {
	return checkOwner(path, fi, false)
}

func checkOwner(path string, fi os.FileInfo, dir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := os.Getuid()
	if int(st.Uid) != uid {
		return &UnsafeError{Path: path, Problem: fmt.Sprintf("is owned by user %d, not by you (%d)", st.Uid, uid),
			Fix: fmt.Sprintf("chown %d %s", uid, shellQuote(path))}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		mode := "600"
		if dir {
			mode = "700"
		}
		return &UnsafeError{Path: path, Problem: fmt.Sprintf("is writable by group or others (mode %04o)", fi.Mode().Perm()),
			Fix: fmt.Sprintf("chmod %s %s", mode, shellQuote(path))}
	}
	return nil
}

// lockFile takes an exclusive lock on f without waiting: flock, released by
// the kernel when the process dies, however it dies.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLockBusy
	}
	return err
}

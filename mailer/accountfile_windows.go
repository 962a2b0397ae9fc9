//go:build windows

package mailer

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// checkOwnFolder: on Windows the profile's folders are the user's by their
// ACLs, which Postcard does not inspect.
func checkOwnFolder(dir string) error { return nil }

// checkOwnFile: see checkOwnFolder.
func checkOwnFile(path string, fi os.FileInfo) error { return nil }

// lockFile takes an exclusive lock on f without waiting: LockFileEx,
// released by the system when the process dies, however it dies.
func lockFile(f *os.File) error {
	var ol windows.Overlapped
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLockBusy
	}
	return err
}

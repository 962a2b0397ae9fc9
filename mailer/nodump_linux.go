package mailer

import "golang.org/x/sys/unix"

// NoCoreDumps keeps the process's memory, which holds the password while
// it is used, out of core dumps and away from the user's other processes:
// on Linux it makes the process non-dumpable (PR_SET_DUMPABLE 0, which also
// keeps ptrace and /proc/PID/mem to root) and its core size limit 0; on
// other Unix systems it sets the limit only; on Windows it does nothing.
// Call it first thing in main: it lasts as long as the process.
func NoCoreDumps() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return err
	}
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}

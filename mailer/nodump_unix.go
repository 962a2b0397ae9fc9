//go:build unix && !linux

package mailer

import "golang.org/x/sys/unix"

// NoCoreDumps: see nodump_linux.go. Here only the core size limit is set.
func NoCoreDumps() error {
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}

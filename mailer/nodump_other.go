//go:build !unix

package mailer

// NoCoreDumps: see nodump_linux.go. Windows writes no core dumps of its own.
func NoCoreDumps() error { return nil }

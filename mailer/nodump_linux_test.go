package mailer

import (
	"testing"

	"golang.org/x/sys/unix"
)

// This test process stays non-dumpable afterwards, which is harmless.
func TestNoCoreDumps(t *testing.T) {
	if err := NoCoreDumps(); err != nil {
		t.Fatal(err)
	}
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
		t.Errorf("PR_GET_DUMPABLE = %d, %v; want 0", d, err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 || lim.Max != 0 {
		t.Errorf("RLIMIT_CORE = %+v, %v; want 0", lim, err)
	}
}

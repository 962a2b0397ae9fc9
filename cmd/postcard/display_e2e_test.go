package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestE2E_NoDisplay runs postcard with no arguments, as make run over SSH
// does: environ has neither DISPLAY nor WAYLAND_DISPLAY.
func TestE2E_NoDisplay(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("macOS and Windows always have a display")
	}
	env := newE2E(t)
	for _, kv := range env.environ() {
		if strings.HasPrefix(kv, "DISPLAY=") || strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			t.Fatalf("the test's environment has %s", kv)
		}
	}
	r := env.run(t, "")
	if r.code != exitUnavailable {
		t.Errorf("exit %d, want %d", r.code, exitUnavailable)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "postcard: ") ||
		!strings.Contains(r.stderr, "no display") || !strings.Contains(r.stderr, "postcard help") {
		t.Errorf("stderr %q, want one line saying there is no display and naming postcard help", r.stderr)
	}
	if out := r.stdout + r.stderr; strings.Contains(out, "goroutine") || strings.Contains(out, "panic") {
		t.Errorf("postcard panicked:\n%s", out)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

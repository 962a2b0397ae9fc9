package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestHasDisplay(t *testing.T) {
	for _, tc := range []struct {
		name             string
		display, wayland string
		want             bool
	}{
		{name: "X11", display: ":0", want: true},
		{name: "Wayland", wayland: "wayland-0", want: true},
		{name: "both", display: ":1", wayland: "wayland-1", want: true},
		{name: "neither", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DISPLAY", tc.display)
			t.Setenv("WAYLAND_DISPLAY", tc.wayland)
			want := tc.want
			if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
				want = true
			}
			if got := hasDisplay(); got != want {
				t.Errorf("hasDisplay() = %v with DISPLAY=%q WAYLAND_DISPLAY=%q, want %v", got, tc.display, tc.wayland, want)
			}
		})
	}
}

func TestWindow_NoDisplayOneLineExit69(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("macOS and Windows always have a display")
	}
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	tc := newTestCommand(t)
	tc.openWindow = openWindowOnDisplay // ui.Run is not reached
	code := tc.run("")
	if code != exitUnavailable {
		t.Errorf("exit %d, want %d", code, exitUnavailable)
	}
	stderr := tc.stderr.String()
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "no display") || !strings.Contains(stderr, "postcard help") {
		t.Errorf("stderr %q, want one line saying there is no display and naming postcard help", stderr)
	}
	if tc.stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", tc.stdout)
	}
}

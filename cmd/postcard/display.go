package main

import (
	"os"
	"runtime"

	"github.com/postcard-mail/postcard/ui"
)

// errNoDisplay is why the window does not open over SSH or on a text
// console, in one line: without a display GLFW panics with a stack trace.
var errNoDisplay = &cmdError{
	kind: "no-display",
	code: exitUnavailable,
	msg:  "there is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); the commands work without one: postcard help lists them",
}

// hasDisplay reports whether the window has a display to open on. On
// Linux and the BSDs that is an X11 or Wayland display named in the
// environment; macOS and Windows always have one.
func hasDisplay() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "illumos", "solaris":
		return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
	}
	return true
}

// openWindowOnDisplay is ui.Run, after checking there is a display so
// that no window is created without one.
func openWindowOnDisplay(o ui.Options) error {
	if !hasDisplay() {
		return errNoDisplay
	}
	return ui.Run(o)
}

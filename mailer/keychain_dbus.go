//go:build unix && !darwin

package mailer

import (
	"os"
	"path/filepath"
	"strconv"
)

// sessionBus reports whether a D-Bus session bus can be reached without
// starting one, where godbus (under go-keyring) looks for it: the address
// in DBUS_SESSION_BUS_ADDRESS, or the socket or address file a systemd
// user session keeps in /run/user/UID. Failing those, godbus would run
// dbus-launch.
func sessionBus() bool {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return true
	}
	run := filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, name)); err == nil {
			return true
		}
	}
	return false
}

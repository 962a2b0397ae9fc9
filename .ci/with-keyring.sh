#!/bin/sh
# with-keyring.sh runs a command against a private, throwaway GNOME Keyring:
#
#   .ci/with-keyring.sh go test -race -run Keychain -v ./mailer/
#
# The command gets its own temporary HOME (and XDG dirs), its own D-Bus
# session bus and a gnome-keyring-daemon unlocked with a random password, so
# the real-keyring tests (POSTCARD_TEST_KEYRING=1) never see or touch the
# user's own keyring. Everything is removed afterwards and the command's exit
# code is kept. Needs the Debian packages gnome-keyring and dbus-x11.
set -eu

if [ "$#" -eq 0 ]; then
	echo "usage: $0 command [args...]" >&2
	exit 2
fi
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "with-keyring.sh: $tool not found (apt-get install gnome-keyring dbus-x11)" >&2
		exit 127
	fi
done

# A new HOME would move Go's build and module caches and its settings file
# (GOFLAGS, GOTOOLCHAIN, GOPROXY set with go env -w): pin them to the
# caller's so builds stay warm and behave the same.
if command -v go >/dev/null 2>&1; then
	GOCACHE=$(go env GOCACHE)
	GOMODCACHE=$(go env GOMODCACHE)
	GOPATH=$(go env GOPATH)
	GOENV=$(go env GOENV)
	export GOCACHE GOMODCACHE GOPATH GOENV
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/postcard-keyring.XXXXXX")
# On every way out; the daemon may still be writing for a moment, so retry.
cleanup() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		rm -rf "$tmp" 2>/dev/null && return 0
		sleep 0.2
	done
	rm -rf "$tmp" || echo "with-keyring.sh: could not remove $tmp" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 700 "$tmp"
mkdir -m 700 -p "$tmp/.local" "$tmp/.local/share" "$tmp/.config" "$tmp/.cache" "$tmp/run"

HOME=$tmp
XDG_DATA_HOME=$tmp/.local/share
XDG_CONFIG_HOME=$tmp/.config
XDG_CACHE_HOME=$tmp/.cache
XDG_RUNTIME_DIR=$tmp/run
export HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR
# Never reach a desktop session's bus or keyring daemon by accident.
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL

# Throwaway: it unlocks a keyring that lives only in $tmp. Unlocking with a
# password also creates the "login" collection go-keyring stores into.
POSTCARD_KEYRING_PW=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
POSTCARD_TEST_KEYRING=1
POSTCARD_TEST_HOME_PRIVATE=1
export POSTCARD_KEYRING_PW POSTCARD_TEST_KEYRING POSTCARD_TEST_HOME_PRIVATE

# Inside the private bus: start and unlock the daemon, run the command, then
# stop the daemon (found by its bus name, not by process name) and wait for
# it, so it is not still writing into $tmp while that is removed.
set +e
dbus-run-session -- sh -c '
	pw=$POSTCARD_KEYRING_PW
	unset POSTCARD_KEYRING_PW
	printf %s "$pw" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1
	# The daemon can return before it owns its bus name; a call made then
	# would have D-Bus start a second, locked daemon. Wait for the name.
	pid=
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
		pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
			sed -n "s/.*uint32 //p")
		[ -n "$pid" ] && break
		sleep 0.2
	done
	if [ -z "$pid" ]; then
		echo "with-keyring.sh: gnome-keyring-daemon did not come up on the session bus" >&2
		exit 1
	fi
	"$@"
	rc=$?
	if kill "$pid" 2>/dev/null; then
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			state=$(sed "s/.*) //" "/proc/$pid/stat" 2>/dev/null | cut -c1)
			[ -z "$state" ] || [ "$state" = Z ] && break
			sleep 0.1
		done
	fi
	exit "$rc"
' sh "$@"
rc=$?
set -e
exit "$rc"

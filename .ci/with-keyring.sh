#!/bin/sh
# with-keyring.sh runs a command against a private, throwaway GNOME Keyring.
#
#   .ci/with-keyring.sh go test -race -run Keychain -v ./mailer/
#
# It gives the command its own temporary HOME (and XDG dirs), its own D-Bus
# session bus and a gnome-keyring-daemon unlocked with a random password, so
# the real-keyring tests (POSTCARD_TEST_KEYRING=1) never see or touch the
# user's own keyring. Everything is removed afterwards; the command's exit
# code is kept. Needs the Debian packages gnome-keyring and dbus-x11.
set -eu

if [ "$#" -eq 0 ]; then
	echo "usage: $0 command [args...]" >&2
	exit 2
fi
for tool in dbus-run-session gnome-keyring-daemon; do
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
trap 'rm -rf "$tmp"' EXIT
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

set +e
dbus-run-session -- sh -c '
	printf %s "$POSTCARD_KEYRING_PW" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1
	unset POSTCARD_KEYRING_PW
	exec "$@"
' sh "$@"
rc=$?
set -e
exit "$rc"

#!/usr/bin/env bash
# deps.sh installs the system packages Postcard's build and tests need:
#
#   bash .ci/deps.sh
#
# On Debian and Ubuntu it installs, with apt-get, only the packages that are
# missing (nothing to do is the common case and takes a fraction of a second),
# as root directly or through sudo. Elsewhere (Fedora, Arch, macOS) it prints
# the equivalent command and fails only if a tool the build needs is missing.
# It also checks that Go 1.26 or newer is installed.
set -euo pipefail

# Debian package names, with what needs them.
packages=(
	# Building the Fyne window (cgo, OpenGL, X11 and Wayland headers).
	gcc make pkg-config libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev
	# The keychain tests: a real gnome-keyring in a private D-Bus session.
	gnome-keyring dbus-x11
	# Window tests and screenshots under a virtual X server.
	xvfb xdotool x11-apps imagemagick
	# Fetching modules and the source over HTTPS.
	git ca-certificates
	# make package and make check-package: tar -J, checking the .desktop
	# file, cross-compiling for Windows and looking inside the .exe.
	xz-utils file desktop-file-utils gcc-mingw-w64-x86-64 icoutils
	# make bench: curl is the anchor for sending, GNU time measures peak RSS,
	# xclip holds the text the typing part pastes and xset turns off the
	# X server's key repeat, which repeats keys when the machine is busy.
	curl time xclip x11-xserver-utils
	# The IMAP and CardDAV tests: a real Dovecot (mailer/imaptest) and a real
	# Radicale (mailer/carddavtest) on loopback.
	dovecot-imapd radicale
)

say() { printf 'deps: %s\n' "$*"; }
warn() { printf 'deps: %s\n' "$*" >&2; }

# Go comes from go.dev, not from the distribution: Debian 12's is too old.
check_go() {
	if ! command -v go >/dev/null 2>&1; then
		if [ -x /usr/local/go/bin/go ]; then
			warn "Go is installed in /usr/local/go but not on your PATH; add it with:"
			warn '  export PATH=$PATH:/usr/local/go/bin'
		else
			local arch tarball
			case $(uname -m) in
			x86_64) arch=amd64 ;;
			aarch64 | arm64) arch=arm64 ;;
			*) arch=$(uname -m) ;;
			esac
			tarball=go1.26.8.$(uname -s | tr A-Z a-z)-$arch.tar.gz
			warn "Go is not installed. Postcard needs Go 1.26 or newer; install it from https://go.dev/dl/, e.g.:"
			warn "  curl -fsSLO https://go.dev/dl/$tarball"
			warn "  sudo rm -rf /usr/local/go && sudo tar -C /usr/local -xzf $tarball"
			warn '  export PATH=$PATH:/usr/local/go/bin'
		fi
		return 1
	fi
	# GOTOOLCHAIN=local: the version of the go command installed here, not
	# the one go.mod may ask it to download.
	local v major minor
	v=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)
	v=${v#go}
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%[!0-9]*}
	if ! [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]]; then
		warn "could not tell the Go version (go env GOVERSION said \"go$v\"); Postcard needs Go 1.26 or newer"
		return 0
	fi
	if ((major < 1 || (major == 1 && minor < 26))); then
		warn "Go $v is too old: Postcard needs Go 1.26 or newer; install it from https://go.dev/dl/"
		return 1
	fi
}

# missing_debian prints, space-separated, the packages of "packages" that are
# not installed ("ii" in dpkg's database; a removed package's leftover "rc"
# counts as missing). dpkg-query fails when it knows none of the names it is
# given, so only its output counts.
missing_debian() {
	local installed p missing=()
	installed=" $({ dpkg-query -W -f='${db:Status-Abbrev}|${Package}\n' "${packages[@]}" 2>/dev/null || true; } |
		sed -n 's/^ii *|//p' | tr '\n' ' ') "
	for p in "${packages[@]}"; do
		[[ $installed == *" $p "* ]] || missing+=("$p")
	done
	printf '%s\n' "${missing[*]}"
}

install_debian() {
	local out missing sudo=() log
	out=$(missing_debian)
	read -r -a missing <<<"$out"
	if [ "${#missing[@]}" -eq 0 ]; then
		say "all ${#packages[@]} system packages are installed"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			warn "missing packages: ${missing[*]}"
			warn "run as root: apt-get update && apt-get install --no-install-recommends ${missing[*]}"
			return 1
		fi
		sudo=(sudo)
		say "missing: ${missing[*]}; installing them with sudo, which may ask for your password"
		# Ask for the password now, before apt-get's output is captured.
		sudo -v || return 1
	fi
	say "installing: ${missing[*]}"
	log=$(mktemp "${TMPDIR:-/tmp}/postcard-deps.XXXXXX")
	# Wait for apt's lock rather than fail while, say, unattended-upgrades
	# runs on a machine that has just booted.
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
	if ! { "${apt[@]}" update && "${apt[@]}" install --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 </dev/null; then
		cat "$log" >&2
		rm -f "$log"
		warn "apt-get failed (output above)"
		return 1
	fi
	rm -f "$log"
	out=$(missing_debian)
	read -r -a missing <<<"$out"
	if [ "${#missing[@]}" -ne 0 ]; then
		warn "still not installed after apt-get: ${missing[*]}"
		return 1
	fi
	say "installed"
}

# check_tools fails if a tool the build or the tests run is missing; it is all
# that can be checked without knowing the distribution's package names.
check_tools() {
	local t missing=()
	local tools=(git)
	case $(uname -s) in
	Darwin) tools+=(cc) ;; # Xcode's command line tools; the keychain is built in.
	*) tools+=(cc pkg-config dbus-run-session dbus-send gnome-keyring-daemon) ;;
	esac
	for t in "${tools[@]}"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	if [ "$(uname -s)" != Darwin ] && command -v pkg-config >/dev/null 2>&1 &&
		! pkg-config --exists gl x11 xcursor xrandr xinerama xi xxf86vm wayland-client xkbcommon; then
		missing+=("OpenGL/X11/Wayland development headers")
	fi
	if [ "${#missing[@]}" -ne 0 ]; then
		warn "missing: ${missing[*]}"
		return 1
	fi
}

# print_equivalent prints what to install on systems without apt-get.
print_equivalent() {
	if command -v dnf >/dev/null 2>&1; then
		say "on Fedora, install the equivalent packages with:"
		say "  sudo dnf install gcc make pkgconf-pkg-config mesa-libGL-devel libX11-devel libXcursor-devel libXrandr-devel libXinerama-devel libXi-devel libXxf86vm-devel wayland-devel libxkbcommon-devel gnome-keyring dbus-daemon dbus-tools dbus-x11 xorg-x11-server-Xvfb xdotool xorg-x11-apps ImageMagick git ca-certificates xz file desktop-file-utils mingw64-gcc icoutils"
	elif command -v pacman >/dev/null 2>&1; then
		say "on Arch, install the equivalent packages with:"
		say "  sudo pacman -S --needed gcc make pkgconf mesa libx11 libxcursor libxrandr libxinerama libxi libxxf86vm wayland libxkbcommon gnome-keyring dbus xorg-server-xvfb xdotool xorg-apps imagemagick git ca-certificates xz file desktop-file-utils mingw-w64-gcc icoutils"
	elif [ "$(uname -s)" = Darwin ]; then
		say "on macOS, install Xcode's command line tools (the C compiler Fyne needs), Go and Git with:"
		say "  xcode-select --install && brew install go git"
		say "The keychain is macOS's own; the tests that need GNOME Keyring are skipped."
	else
		say "no apt-get here: install the equivalents of these Debian packages with your package manager:"
		say "  ${packages[*]}"
	fi
}

main() {
	local rc=0
	if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
		install_debian || rc=1
	else
		print_equivalent
		if check_tools; then
			say "the tools the build and tests need are present"
		else
			rc=1
		fi
	fi
	check_go || rc=1
	return "$rc"
}

main "$@"

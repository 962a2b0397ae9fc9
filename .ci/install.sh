#!/usr/bin/env bash
# install.sh installs Postcard for the current user, without root, from the
# Linux package that `make package` wrote, or removes exactly what it
# installed:
#
#   bash .ci/install.sh install dist/postcard-VERSION-linux-ARCH.tar.xz
#   bash .ci/install.sh uninstall
#
# `make install` and `make uninstall` run it. It installs, with ID the app ID
# from FyneApp.toml:
#
#   ~/.local/bin/postcard                            the package's executable
#   ~/.local/share/applications/ID.desktop           the package's menu entry, its
#                                                    Exec set to the full path above
#   ~/.local/share/icons/hicolor/SIZE/apps/ID.png    16 to 512 px, from assets/
#   ~/.local/share/icons/hicolor/scalable/apps/ID.svg
#
# BINDIR replaces ~/.local/bin and XDG_DATA_HOME ~/.local/share, as usual.
# Desktops watch the applications folder and pick the entry up by themselves;
# the desktop-file and icon caches in those folders are refreshed only if
# they already exist, so that uninstalling leaves nothing behind.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${HOME:?HOME is not set}"
bindir=${BINDIR:-$HOME/.local/bin}
datadir=${XDG_DATA_HOME:-$HOME/.local/share}
id=$(sed -n 's/^ID *= *"\([^"]*\)".*/\1/p' FyneApp.toml)
if [ -z "$id" ]; then
	echo 'install.sh: no ID in FyneApp.toml' >&2
	exit 1
fi
sizes=(16 32 48 64 128 256 512)

exe=$bindir/postcard
desktop=$datadir/applications/$id.desktop
icons=$datadir/icons/hicolor
files=("$exe" "$desktop" "$icons/scalable/apps/$id.svg")
for s in "${sizes[@]}"; do
	files+=("$icons/${s}x$s/apps/$id.png")
done

# desktop_exec quotes a path for a .desktop file's Exec key: as is when it
# holds no character the specification reserves, otherwise in double quotes
# with ", `, $ and \ escaped, then every \ doubled (the string escape) and %
# doubled (the field-code escape).
desktop_exec() {
	local p=$1
	if [[ $p =~ ^[A-Za-z0-9/._+-]+$ ]]; then
		printf '%s' "$p"
		return
	fi
	p=${p//\\/\\\\}
	p=${p//\"/\\\"}
	p=${p//\`/\\\`}
	p=${p//\$/\\\$}
	p=${p//\\/\\\\}
	p=${p//%/%%}
	printf '"%s"' "$p"
}

refresh_caches() {
	if [ -f "$datadir/applications/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null 2>&1; then
		update-desktop-database -q "$datadir/applications" || true
	fi
	if [ -f "$icons/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
		gtk-update-icon-cache -q -f -t "$icons" || true
	fi
}

install_files() {
	local tarball=$1 src line
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/postcard-install.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	tar -xJf "$tarball" -C "$tmp"
	# The fyne tool puts them under usr/local or usr, whichever the machine
	# that made the package had.
	src=$(find "$tmp" -path "*/bin/postcard" -type f | head -n 1)
	if [ -z "$src" ] || ! [ -f "$(dirname "$(dirname "$src")")/share/applications/$id.desktop" ]; then
		echo "install.sh: $tarball holds no bin/postcard and share/applications/$id.desktop" >&2
		exit 1
	fi
	src=$(dirname "$(dirname "$src")")

	install -Dm755 "$src/bin/postcard" "$exe"
	mkdir -p "$(dirname "$desktop")"
	while IFS= read -r line; do
		case $line in
		Exec=*) printf 'Exec=%s\n' "$(desktop_exec "$exe")" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$src/share/applications/$id.desktop" >"$desktop.tmp"
	chmod 644 "$desktop.tmp"
	mv "$desktop.tmp" "$desktop"
	install -Dm644 assets/icon.svg "$icons/scalable/apps/$id.svg"
	for s in "${sizes[@]}"; do
		if [ "$s" = 512 ]; then
			install -Dm644 assets/icon.png "$icons/${s}x$s/apps/$id.png"
		else
			install -Dm644 "assets/icon-$s.png" "$icons/${s}x$s/apps/$id.png"
		fi
	done
	refresh_caches
	printf 'installed %s\n' "${files[@]}"
	case ":$PATH:" in
	*":$bindir:"*) ;;
	*) echo "note: $bindir is not on your PATH; the menu entry works anyway, and postcard runs from a terminal as $exe" ;;
	esac
}

uninstall_files() {
	local f
	for f in "${files[@]}"; do
		if [ -e "$f" ]; then
			rm -f "$f"
			printf 'removed %s\n' "$f"
		fi
	done
	refresh_caches
}

case ${1:-} in
install)
	if [ $# -ne 2 ]; then
		echo 'usage: install.sh install TARBALL' >&2
		exit 2
	fi
	install_files "$2"
	;;
uninstall)
	uninstall_files
	;;
*)
	echo 'usage: install.sh install TARBALL | uninstall' >&2
	exit 2
	;;
esac

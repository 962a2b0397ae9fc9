#!/usr/bin/env bash
# check-package.sh checks the packages `make package` and
# `make package-windows` wrote:
#
#   bash .ci/check-package.sh dist/postcard-V-linux-ARCH.tar.xz dist/postcard-V-windows-amd64.exe
#
# The tarball must hold the executable (which prints FyneApp.toml's version),
# the icon and a .desktop file that desktop-file-validate accepts, and the
# .exe must be a GUI-subsystem PE32+ executable with an icon resource.
# `make check-package` runs it, and `make test` runs that.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -ne 2 ]; then
	echo 'usage: check-package.sh TARBALL EXE' >&2
	exit 2
fi
tarball=$1 exe=$2
failed=0
fail() {
	printf 'check-package: %s\n' "$*" >&2
	failed=1
}
toml() { sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\}.*/\1/p" FyneApp.toml | head -n 1; }
id=$(toml ID) name=$(toml Name) version=$(toml Version) build=$(toml Build)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/postcard-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The Linux package.
tar -xJf "$tarball" -C "$tmp"
bin=$(find "$tmp" -path '*/bin/postcard' -type f)
desktop=$(find "$tmp" -path "*/share/applications/$id.desktop" -type f)
icon=$(find "$tmp" -path "*/share/pixmaps/$id.png" -type f)
[ -n "$bin" ] || fail "$tarball: no bin/postcard"
[ -n "$desktop" ] || fail "$tarball: no share/applications/$id.desktop"
[ -n "$icon" ] || fail "$tarball: no share/pixmaps/$id.png"
if [ -n "$bin" ]; then
	file -b "$bin" | grep -q '^ELF 64-bit LSB .*executable.*, stripped$' ||
		fail "$tarball: bin/postcard is not a stripped ELF executable: $(file -b "$bin")"
	got=$("$bin" --version 2>&1) || fail "$tarball: postcard --version failed: $got"
	[ "$got" = "postcard $version (build $build)" ] ||
		fail "$tarball: postcard --version says \"$got\", FyneApp.toml says $version build $build"
fi
if [ -n "$desktop" ]; then
	if out=$(desktop-file-validate "$desktop" 2>&1) && [ -z "$out" ]; then
		echo "check-package: desktop-file-validate accepts $id.desktop"
	else
		fail "desktop-file-validate $id.desktop: ${out:-failed}"
	fi
	for want in "Name=$name" "Exec=postcard" "Icon=$id" "Categories=Network;Email;"; do
		grep -qxF "$want" "$desktop" || fail "$id.desktop has no line $want"
	done
fi
if [ -n "$icon" ]; then
	cmp -s "$icon" assets/icon.png || fail "$tarball: the icon is not assets/icon.png"
fi

# The Windows executable.
kind=$(file -b "$exe")
case $kind in
"PE32+ executable (GUI) x86-64"*) echo "check-package: $exe: $kind" ;;
*) fail "$exe: want a PE32+ executable (GUI) x86-64, file says: $kind" ;;
esac
x86_64-w64-mingw32-objdump -h "$exe" | grep -q ' \.rsrc ' || fail "$exe: no .rsrc section (no icon, version or manifest)"
if command -v wrestool >/dev/null 2>&1; then
	wrestool -l --type=group_icon "$exe" | grep -q . || fail "$exe: no icon resource"
	wrestool -x --raw --type=version "$exe" | iconv -f UTF-16LE -t UTF-8 2>/dev/null | tr -d '\0' |
		grep -qF "$version.$build" || fail "$exe: the version resource does not say $version.$build"
else
	echo "check-package: wrestool (icoutils) is missing: not checking the icon resource itself"
fi

# The fyne tool raises Build in the FyneApp.toml it reads; it must have read
# only the temporary copy.
[ -e cmd/postcard/FyneApp.toml ] && fail "cmd/postcard/FyneApp.toml was left behind"
go test -count=1 -run '^TestMetadata_MatchesFyneAppToml$' ./assets/ >/dev/null ||
	fail "FyneApp.toml no longer matches assets/metadata.go: did packaging change it?"

if [ "$failed" -ne 0 ]; then
	exit 1
fi
echo "check-package: ok: $tarball ($(du -h "$tarball" | cut -f1)), $exe ($(du -h "$exe" | cut -f1))"

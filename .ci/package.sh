#!/usr/bin/env bash
# package.sh builds a release of Postcard with the fyne tool and puts the
# result at OUT:
#
#   bash .ci/package.sh FYNE linux|windows|darwin OUT
#
# `make package` and `make package-windows` run it; FYNE is the pinned fyne
# tool they install. The fyne tool itself runs go build with -trimpath,
# -ldflags "-s -w" and the tags release and migrated_fynedo (from
# [Migrations]), and puts the icon and FyneApp.toml's details into the binary.
#
# The fyne tool reads FyneApp.toml only from the main package's folder, and
# after packaging it raises Build in the file it read. So that the top-level
# FyneApp.toml stays the only one and is never changed, a copy of it sits in
# cmd/postcard for the length of the run and is deleted afterwards, together
# with the Build the tool wrote into it. The icon is passed as a flag because
# the copy's relative Icon path would point into cmd/postcard.
set -euo pipefail

if [ $# -ne 3 ]; then
	echo 'usage: package.sh FYNE linux|windows|darwin OUT' >&2
	exit 2
fi
fyne=$1 target=$2 out=$3
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
case $fyne in /*) ;; *) fyne=$root/$fyne ;; esac
case $out in /*) ;; *) out=$root/$out ;; esac

src=$root/cmd/postcard
copy=$src/FyneApp.toml
# Besides the copy, the fyne tool writes into the source folder, and removes
# when it is done, the metadata and Windows resource files it builds with and
# the executable. A run that is killed can leave them behind, and a stray
# fyne.syso or fyne_metadata_init.go would end up in every later go build.
for f in "$copy" "$src/fyne.syso" "$src/fyne_metadata_init.go"; do
	if [ -e "$f" ]; then
		echo "package.sh: ${f#"$root"/} exists, probably left by an interrupted run: delete it" >&2
		exit 1
	fi
done
# The fyne tool writes its tarball or app into the folder it starts in.
work=$(mktemp -d "${TMPDIR:-/tmp}/postcard-package.XXXXXX")
cleanup() {
	rm -f "$copy" "$src/fyne.syso" "$src/fyne_metadata_init.go" "$src/FyneApp.ico" \
		"$src/postcard" "$src/postcard.exe" "$src/postcard.exe.manifest" "$src"/*.exe
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp FyneApp.toml "$copy"

args=(package --target "$target" --release --src "$src")
icon=$root/assets/icon.png
mkdir -p "$(dirname "$out")"
case $target in
linux)
	(cd "$work" && "$fyne" "${args[@]}" --icon "$icon")
	mv "$work"/*.tar.xz "$out"
	;;
windows)
	# Debian's mingw-w64 compiles the C parts (GLFW) for Windows; the fyne
	# tool adds -H=windowsgui and links a .syso with the icon, the version
	# and a manifest. Its .ico holds the one image it is given, as a PNG
	# that the .ico's directory can only describe as 256×256 at most: give
	# it the 256 px icon so that the two agree.
	icon=$root/assets/icon-256.png
	(cd "$work" && CC=x86_64-w64-mingw32-gcc GOOS=windows GOARCH=amd64 CGO_ENABLED=1 "$fyne" "${args[@]}" --icon "$icon")
	# It leaves the .exe, named after [Details] Name, in the source folder.
	name=$(sed -n 's/^Name *= *"\([^"]*\)".*/\1/p' FyneApp.toml)
	mv "$src/$name.exe" "$out"
	;;
darwin)
	(cd "$work" && "$fyne" "${args[@]}" --icon "$icon")
	rm -rf "$out"
	mv "$work"/*.app "$out"
	;;
*)
	echo "package.sh: unknown target $target (want linux, windows or darwin)" >&2
	exit 2
	;;
esac
echo "package.sh: wrote ${out#"$root"/}"

#!/bin/sh
# Interop test: the C generator writes keys, notes, checkpoints, proofs and
# tiles made by libparley; check.go verifies them with Go's x/mod and hands
# objects made by x/mod to the parley binary. Exits 77 (skipped) without Go.
#
#   run.sh GEN PARLEY CHECK.GO GOCACHE
set -u

# Absolute paths: meson passes them relative to the build directory.
abspath() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$(pwd)/$1" ;;
	esac
}

GEN=$(abspath "$1")
PARLEY=$(abspath "$2")
CHECK=$(abspath "$3")
GOCACHE_DIR=$(abspath "$4")
GOROOT_SRC=/usr/share/gocode

if ! command -v go >/dev/null 2>&1; then
	echo "interop: go not found; skipped"
	exit 77
fi
if [ ! -d "$GOROOT_SRC/src/golang.org/x/mod/sumdb" ]; then
	echo "interop: golang.org/x/mod not found in $GOROOT_SRC (golang-golang-x-mod-dev); skipped"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/parley-interop.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

"$GEN" "$T/out" || { echo "interop: FAIL: the generator failed"; exit 1; }
mkdir -p "$GOCACHE_DIR"
GO111MODULE=off GOPATH=$GOROOT_SRC GOCACHE=$GOCACHE_DIR GOFLAGS="" \
	go run "$CHECK" "$T/out" "$PARLEY"

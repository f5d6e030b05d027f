#!/bin/sh
# Live interop test: a real parleyd on 127.0.0.1 (a free port, a temporary store, stopped by
# its PID), 300 statements logged through the real parley binary so that the tree spans more
# than one full level-0 tile, the public endpoints fetched with curl, and live_check.go
# verifying all of it with Go's x/mod (note.Open, TileHashReader, CheckTree, CheckRecord).
# Exits 77 (skipped) without Go, x/mod or curl.
#
#   live.sh PARLEY PARLEYD LIVE_CHECK.GO GOCACHE
set -u

abspath() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$(pwd)/$1" ;;
	esac
}

PARLEY=$(abspath "$1")
PARLEYD=$(abspath "$2")
CHECK=$(abspath "$3")
GOCACHE_DIR=$(abspath "$4")
GOROOT_SRC=/usr/share/gocode
ORIGIN=hotline.example
STATEMENTS=300

for tool in go curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "interop-live: $tool not found; skipped"
		exit 77
	fi
done
if [ ! -d "$GOROOT_SRC/src/golang.org/x/mod/sumdb" ]; then
	echo "interop-live: golang.org/x/mod not found in $GOROOT_SRC; skipped"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/parley-live.XXXXXX") || exit 99
PID=
HOME=$T/home
export HOME
unset PARLEY_PROFILE XDG_CONFIG_HOME XDG_DATA_HOME PARLEY_NOW

stop_server() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	i=0
	while [ $i -lt 100 ] && kill -0 "$PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
}
cleanup() {
	stop_server
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "interop-live: FAIL: $*"
	[ ! -s "$T/err" ] || sed 's/^/# /' "$T/err"
	exit 1
}

# The exchange: a store, one member, a short batch timer.
mkdir -p "$T/ids" "$T/out" "$HOME"
"$PARLEYD" init --origin "$ORIGIN" --data "$T/data" >"$T/out/log.vkey" 2>"$T/err" ||
	die "parleyd init"
"$PARLEY" keygen --party alice --exchange "$ORIGIN" --out "$T/ids" >/dev/null 2>"$T/err" ||
	die "parley keygen"
"$PARLEYD" party add alice --data "$T/data" --identity "$T/ids" >/dev/null 2>"$T/err" ||
	die "parleyd party add"
printf 'timer_interval_ms = 100\n' >"$T/parleyd.conf"

# parleyd on a random free port of 127.0.0.1, retried when the port is taken.
tries=0
while [ -z "$PID" ] && [ $tries -lt 20 ]; do
	PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
	: >"$T/parleyd.log"
	"$PARLEYD" serve --data "$T/data" --config "$T/parleyd.conf" \
		--listen "127.0.0.1:$PORT" 2>>"$T/parleyd.log" &
	PID=$!
	i=0
	while [ $i -lt 100 ] && kill -0 "$PID" 2>/dev/null &&
		! grep -q 'msg="listening"' "$T/parleyd.log"; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q 'msg="listening"' "$T/parleyd.log" || stop_server
	tries=$((tries + 1))
done
[ -n "$PID" ] || { sed 's/^/# parleyd: /' "$T/parleyd.log"; die "parleyd serve"; }
URL=http://127.0.0.1:$PORT

"$PARLEY" init --exchange "$URL" --party alice --key-dir "$T/ids" \
	--log-key "$(cat "$T/out/log.vkey")" --profile "$T/prof" >/dev/null 2>"$T/err" ||
	die "parley init"

# curl GET of a public endpoint into a file under $T/out.
fetch() {
	curl -sS -f --max-time 20 -o "$T/out/$2" "$URL$1" 2>"$T/err" || die "GET $1"
}

# Statements through the real client; a few receipts ("statement ID index N tree M") kept,
# and the checkpoint fetched at a few sizes on the way.
n=0
: >"$T/out/receipts"
while [ $n -lt $STATEMENTS ]; do
	n=$((n + 1))
	echo "Statement $n of the live interop test." >"$T/body"
	"$PARLEY" statement --profile "$T/prof" --body-file "$T/body" >"$T/said" 2>"$T/err" ||
		die "parley statement $n"
	case $n in
	1 | 7 | 128 | 255 | 256 | 290 | "$STATEMENTS")
		awk '$1 == "statement" && $3 == "index" && $5 == "tree" { print $2, $4, $6 }' \
			"$T/said" >>"$T/out/receipts"
		;;
	esac
	case $n in
	10 | 200 | 270)
		fetch /checkpoint cp.tmp
		mv "$T/out/cp.tmp" "$T/out/cp.$(sed -n 2p "$T/out/cp.tmp")"
		;;
	esac
done
[ "$(wc -l <"$T/out/receipts")" -eq 7 ] || die "parley statement printed no receipt line"

fetch /log-key log-key
fetch /checkpoint checkpoint
SIZE=$(sed -n 2p "$T/out/checkpoint")
[ "${SIZE:-0}" -gt 256 ] || die "the tree has ${SIZE:-no} entries"
for cp in "$T/out"/cp.*; do
	m=${cp##*/cp.}
	fetch "/consistency?old=$m&new=$SIZE" "cons.$m"
done
for m in 0 1 2 5 255 256 257 $((SIZE - 1)) "$SIZE"; do
	fetch "/consistency?old=$m&new=$SIZE" "cons.$m"
done

mkdir -p "$GOCACHE_DIR"
GO111MODULE=off GOPATH=$GOROOT_SRC GOCACHE=$GOCACHE_DIR GOFLAGS="" \
	go run "$CHECK" "$T/out" "$URL" "$T/ids/alice.skey"

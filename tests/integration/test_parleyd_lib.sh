# shellcheck shell=sh
# Shared by the parleyd API tests (POSIX sh, sourced with PARLEYD and DRIVER as $1 and $2): a
# temporary directory, a store with the scenario parties, a server on a free port stopped by
# its PID, and TAP lines numbered here. With PL_TEST_STORE_URL set (tests/pg/run_integration.sh)
# the store is that PostgreSQL database.

set -u
# shellcheck source=tests/integration/tap.sh
. "$(dirname "$0")/tap.sh"

PARLEYD=$(abspath "$1")
DRIVER=$(abspath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/parleyd-api.XXXXXX") || exit 99
DATA=$T/data
IDS=$T/ids
PID=
URL=

cleanup() {
	if [ -n "$PID" ]; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_tap NAME PROGRAM ARGS...: runs a helper that prints unnumbered TAP lines and numbers
# them; a helper that fails without saying why is a failure too. NAME labels its stderr.
run_tap() {
	name=$1
	prog=$2
	shift 2
	"$prog" "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) report ok "${line#ok - }" ;;
		"not ok - "*) report fail "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done <"$T/$name.out"
	sed "s/^/# $name: /" "$T/$name.err"
	ok "$name $1 exits 0" [ "$rc" -eq 0 ]
}

# Runs the driver (see run_tap).
drive() {
	run_tap driver "$DRIVER" "$@"
}

# A new store with every scenario party registered (and one identity left unregistered).
setup_store() {
	mkdir -p "$IDS"
	"$PARLEYD" init --origin hotline.example --data "$DATA" ${PL_TEST_STORE_URL:+--store "$PL_TEST_STORE_URL"} >/dev/null 2>"$T/init.err" ||
		{ cat "$T/init.err"; return 1; }
	"$DRIVER" ident "$IDS" rok-mnd rok-mou unc kpa dprk us-wh us-nsc stranger || return 1
	for p in rok-mnd rok-mou unc kpa dprk us-wh us-nsc; do
		"$PARLEYD" party add "$p" --data "$DATA" --identity "$IDS" >/dev/null 2>"$T/add.err" ||
			{ cat "$T/add.err"; return 1; }
	done
	# Short timer ticks so that deadlines pass quickly; us-nsc audits (it reads every entry
	# bundle, to learn the chain heads); the rest from the arguments.
	printf 'timer_interval_ms = 100\npayload_max = 1048576\nauditors = us-nsc\n' \
		>"$T/parleyd.conf"
	for kv in "$@"; do
		echo "$kv" >>"$T/parleyd.conf"
	done
}

# Starts parleyd on a free port; waits (bounded) until it answers.
start_server() {
	port=$("$DRIVER" freeport) || return 1
	"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" --listen "127.0.0.1:$port" \
		2>>"$T/parleyd.log" &
	PID=$!
	URL=http://127.0.0.1:$port
	wait_answers "$PID" "$URL"
}

# Sends signal $1 to the server and waits (bounded) for it to exit; $STATUS is its status.
stop_server() {
	STATUS=
	[ -n "$PID" ] || return 1
	end_pid "$PID" "$1"
	STATUS=$?
	PID=
	return 0
}

logged() {
	grep -F -q -e "$1" "$T/parleyd.log"
}


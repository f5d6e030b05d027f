# shellcheck shell=sh
# Shared by the parley client tests (POSIX sh, sourced with PARLEY, PARLEYD and DRIVER as $1,
# $2 and $3): a temporary directory, an exchange with the scenario parties, parleyd on a free
# port of 127.0.0.1 stopped by its PID, one profile per party, and TAP lines numbered here.
#
#   expect CODE DESCRIPTION COMMAND...   runs COMMAND, stdout in $T/out, stderr in $T/err,
#                                        and checks the exit code
#   ok DESCRIPTION COMMAND...            checks that COMMAND succeeds
#   as PARTY VERB ARGS...                runs parley VERB with PARTY's profile
#   said TEXT / printed TEXT             the last expect's stderr / stdout holds TEXT

set -u
# shellcheck source=tests/integration/tap.sh
. "$(dirname "$0")/tap.sh"

PARLEY=$(abspath "$1")
PARLEYD=$(abspath "$2")
DRIVER=$(abspath "$3")
T=$(mktemp -d "${TMPDIR:-/tmp}/parley-client.XXXXXX") || exit 99
DATA=$T/data
IDS=$T/ids
PIDS=
URL=
# The client's defaults must never be used by a test.
HOME=$T/home
export HOME
unset PARLEY_PROFILE XDG_CONFIG_HOME XDG_DATA_HOME PARLEY_NOW

cleanup() {
	for p in $PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# parley as a party: as PARTY VERB [ARGS...]
as() {
	who=$1
	shift
	verb=$1
	shift
	# shellcheck disable=SC2086 # "log checkpoint" is two words
	"$PARLEY" $verb --profile "$T/prof/$who" "$@"
}

# The id printed by the last authoring verb ("KIND ID index N tree M").
last_id() {
	cut -d' ' -f2 "$T/out"
}

# A new exchange data directory with the given parties registered.
setup_exchange() {
	mkdir -p "$IDS" "$T/prof" "$HOME"
	"$PARLEYD" init --origin hotline.example --data "$DATA" >/dev/null 2>"$T/init.err" ||
		{ sed 's/^/# /' "$T/init.err"; return 1; }
	for p in "$@"; do
		"$PARLEY" keygen --party "$p" --exchange hotline.example --out "$IDS" >/dev/null ||
			return 1
		"$PARLEYD" party add "$p" --data "$DATA" --identity "$IDS" >/dev/null 2>"$T/add.err" ||
			{ sed 's/^/# /' "$T/add.err"; return 1; }
	done
	printf 'timer_interval_ms = 100\npayload_max = 1048576\n' >"$T/parleyd.conf"
}

# Starts parleyd on data directory $1 on a free port; sets URL and LASTPID. Bounded wait.
start_exchange() {
	port=$("$DRIVER" freeport) || return 1
	"$PARLEYD" serve --data "$1" --config "$T/parleyd.conf" --listen "127.0.0.1:$port" \
		2>>"$T/parleyd.log" &
	LASTPID=$!
	PIDS="$PIDS $LASTPID"
	URL=http://127.0.0.1:$port
	wait_answers "$LASTPID" "$URL"
}

# Stops the parleyd with PID $1 (SIGTERM, then bounded wait, then SIGKILL).
stop_exchange() {
	end_pid "$1"
	rest=
	for p in $PIDS; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	PIDS=$rest
	return 0
}

# A profile for each party, pinned to the exchange at $URL.
make_profiles() {
	for p in "$@"; do
		"$PARLEY" init --exchange "$URL" --party "$p" --key-dir "$IDS" \
			--log-key "$DATA/log.vkey" --profile "$T/prof/$p" >/dev/null 2>"$T/pinit.err" ||
			{ sed 's/^/# /' "$T/pinit.err"; return 1; }
	done
}


# shellcheck shell=sh
# Shared by the agent, thread and audit tests (POSIX sh, sourced with PARLEY, PARLEYD and the
# manual page parley.1 as $1, $2 and $3): a temporary directory, an exchange with parties registered, parleyd on a free port of
# 127.0.0.1 stopped by its PID, a profile per party, and TAP lines numbered here.
#
#   setup_exchange PARTY...    store, identities, registrations, config (a party named
#                              `auditor` is the exchange's auditor)
#   start_server [PORT]        parleyd serve (a free port unless given); sets URL, PORT, PID
#   stop_server                SIGTERM, bounded wait; $STATUS is the exit status
#   make_profiles PARTY...     parley init for each, under $T/p/PARTY
#   as PARTY VERB ARGS...      runs parley as that party: stdout $T/out, stderr $T/err
#   last_id                    the record id a submitting verb printed
#   expect CODE DESC CMD...    runs CMD, checks its exit code
#   ok DESC CMD...             checks that CMD succeeds
#   wait_for N CMD...          retries CMD every 0.1 s, at most N times
#   holds, lacks, json_holds, gone, thread_holds   predicates for ok and wait_for
#   documented VERB...         --help works, and parley.1 documents the verb and its options

set -u
# shellcheck source=tests/integration/tap.sh
. "$(dirname "$0")/tap.sh"

PARLEY=$(abspath "$1")
PARLEYD=$(abspath "$2")
MAN=$(abspath "$3")
T=$(mktemp -d "${TMPDIR:-/tmp}/parley-agent.XXXXXX") || exit 99
DATA=$T/data
IDS=$T/ids
ORIGIN=hotline.example
PID=
PORT=
URL=
BG=

stop_pid() {
	kill -0 "$1" 2>/dev/null || return 0
	end_pid "$1" TERM 100
}

cleanup() {
	for b in $BG; do
		stop_pid "$b"
	done
	[ -z "$PID" ] || stop_pid "$PID"
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# True when file $1 holds (or lacks) the fixed string $2.
holds() {
	grep -F -q -e "$2" "$1"
}
lacks() {
	! grep -F -q -e "$2" "$1"
}

# True when the JSON in file $1, without its spaces and newlines, holds the fixed string $2.
json_holds() {
	tr -d '\n ' <"$1" | grep -F -q -e "$2"
}

# True when the process $1 has exited.
gone() {
	! kill -0 "$1" 2>/dev/null
}

setup_exchange() {
	mkdir -p "$IDS"
	"$PARLEYD" init --origin "$ORIGIN" --data "$DATA" ${PL_TEST_STORE_URL:+--store "$PL_TEST_STORE_URL"} >"$T/log.vkey" 2>"$T/init.err" ||
		{ cat "$T/init.err"; return 1; }
	for p in "$@"; do
		if ! "$PARLEY" keygen --party "$p" --exchange "$ORIGIN" --out "$IDS" >/dev/null \
			2>"$T/add.err" ||
			! "$PARLEYD" party add "$p" --data "$DATA" --identity "$IDS" >/dev/null \
				2>"$T/add.err"; then
			cat "$T/add.err"
			return 1
		fi
	done
	# Short timer ticks so that deadlines pass quickly.
	printf 'timer_interval_ms = 100\npoll_timeout = 5\n' >"$T/parleyd.conf"
	# A party named `auditor` is the exchange's auditor: it reads the whole log.
	case " $* " in
	*" auditor "*) echo 'auditors = auditor' >>"$T/parleyd.conf" ;;
	esac
}

# Starts parleyd on port $1, or on a random free one (retried when taken). With
# LISTEN_IN_CONF set, the address goes in parleyd.conf rather than on the command line (so
# that a reload may try to change it).
start_server() {
	tries=0
	fixed=${1:-}
	while [ $tries -lt 20 ]; do
		if [ -n "$fixed" ]; then
			PORT=$fixed
		else
			PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
		fi
		set -- "--listen" "127.0.0.1:$PORT"
		if [ -n "${LISTEN_IN_CONF:-}" ]; then
			grep -v '^listen = ' "$T/parleyd.conf" >"$T/base.conf"
			{ cat "$T/base.conf"; echo "listen = 127.0.0.1:$PORT"; } >"$T/parleyd.conf"
			set --
		fi
		: >"$T/parleyd.log"
		"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" "$@" 2>>"$T/parleyd.log" &
		PID=$!
		URL=http://127.0.0.1:$PORT
		i=0
		while [ $i -lt 100 ] && kill -0 "$PID" 2>/dev/null; do
			grep -q 'msg="listening"' "$T/parleyd.log" && return 0
			sleep 0.1
			i=$((i + 1))
		done
		stop_pid "$PID"
		PID=
		tries=$((tries + 1))
	done
	sed 's/^/# parleyd: /' "$T/parleyd.log"
	return 1
}

stop_server() {
	STATUS=
	[ -n "$PID" ] || return 1
	end_pid "$PID"
	# shellcheck disable=SC2034 # read by the scripts that source this file
	STATUS=$?
	PID=
	return 0
}

make_profiles() {
	for p in "$@"; do
		"$PARLEY" init --exchange "$URL" --party "$p" --key-dir "$IDS" \
			--log-key "$(cat "$T/log.vkey")" --profile "$T/p/$p" >/dev/null 2>"$T/err" ||
			{ cat "$T/err"; return 1; }
	done
}

as() {
	who=$1
	shift
	"$PARLEY" "$@" --profile "$T/p/$who" >"$T/out" 2>"$T/err"
}

last_id() {
	awk 'NR == 1 { print $2 }' "$T/out"
}

# True when the JSON thread of $1, as party $2 sees it, holds the fixed string $3 (spaces and
# newlines removed).
thread_holds() {
	"$PARLEY" thread --json "$1" --profile "$T/p/$2" 2>/dev/null | tr -d '\n ' |
		grep -F -q -e "$3"
}

documented() {
	expect 0 "$* --help" "$PARLEY" "$@" --help
	ok "$* --help prints usage on stdout" grep -q "^usage: parley $*" "$T/out"
	ok "$* --help prints nothing on stderr" [ ! -s "$T/err" ]
	ok "parley.1 documents $*" grep -q -e "^\.Ss $*\$" "$MAN"
	# shellcheck disable=SC2013 # options are words
	for opt in $(grep -o -e '--[a-z][a-z-]*' "$T/out" | sort -u); do
		ok "parley.1 documents $* $opt" grep -q -e "Fl \\\\-${opt#--}" "$MAN"
	done
}


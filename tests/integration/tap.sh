# shellcheck shell=sh
# TAP checks and process helpers shared by the integration tests (POSIX sh, sourced by each
# test's library).
#
#   ok DESCRIPTION COMMAND...            checks that COMMAND succeeds
#   expect CODE DESCRIPTION COMMAND...   runs COMMAND with stdout in $T/out and stderr in
#                                        $T/err and checks its exit code
#   said TEXT / printed TEXT             the last expect's stderr / stdout holds TEXT
#   finish                               prints the plan; the script's exit status
#   help_documented MAN VERB...          VERB --help prints its usage on stdout, nothing on
#                                        stderr, and the manual page MAN has every long option
#   wait_gone PID N                      waits at most N tenths of a second for PID to exit
#   end_pid PID [SIGNAL [N]]             signals PID (TERM), waits (N, 150), then kills it
#   wait_answers PID URL                 waits (bounded) until the parleyd PID answers at URL
#   wait_health URL PID                  waits (bounded) until URL/health answers while PID lives
#   wait_for N COMMAND...                retries COMMAND every 0.1 s, at most N times
# The sourcing library sets T, a temporary directory of the test's own.

count=0
fails=0

# An absolute path, so that tests may change directory.
abspath() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$(pwd)/$1" ;;
	esac
}

report() {
	count=$((count + 1))
	if [ "$1" = ok ]; then
		echo "ok $count - $2"
	else
		fails=$((fails + 1))
		echo "not ok $count - $2"
	fi
}

ok() {
	desc=$1
	shift
	if "$@"; then
		report ok "$desc"
	else
		report fail "$desc"
	fi
}

expect() {
	want=$1
	desc=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		report ok "$desc"
	else
		report fail "$desc (exit $got, want $want)"
		sed 's/^/# stderr: /' "$T/err"
		sed 's/^/# stdout: /' "$T/out"
	fi
}

said() {
	grep -F -q -e "$1" "$T/err"
}

printed() {
	grep -F -q -e "$1" "$T/out"
}

help_documented() {
	man=$1
	shift
	expect 0 "$* --help" "$PARLEY" "$@" --help
	ok "$* --help prints usage on stdout" grep -q '^usage: parley' "$T/out"
	ok "$* --help prints nothing on stderr" [ ! -s "$T/err" ]
	# shellcheck disable=SC2013 # option names are words
	for opt in $(grep -o -e '--[a-z][a-z-]*' "$T/out" | sort -u); do
		ok "parley.1 documents $* $opt" grep -q -e "Fl \\\\-${opt#--}" "$man"
	done
}

finish() {
	echo "1..$count"
	[ "$fails" -eq 0 ]
}

wait_gone() {
	i=0
	while [ $i -lt "$2" ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}

# The exit status is the process's, as wait reports it.
end_pid() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait_gone "$1" "${3:-150}"
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# Asks $DRIVER; when parleyd exits or does not answer in time, prints its log $T/parleyd.log.
wait_answers() {
	i=0
	while [ $i -lt 100 ]; do
		if "$DRIVER" health "$2"; then
			return 0
		fi
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	sed 's/^/# parleyd: /' "$T/parleyd.log"
	return 1
}

# Asks with curl, for servers other than parleyd (parley-witness) or where no driver is built.
wait_health() {
	i=0
	while [ $i -lt 100 ]; do
		curl -s -f -o /dev/null "$1/health" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

wait_for() {
	n=$1
	shift
	i=0
	while [ "$i" -lt "$n" ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

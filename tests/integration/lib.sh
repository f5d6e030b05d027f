# shellcheck shell=sh
# Shared by the CLI tests (POSIX sh, sourced): a temporary directory removed on
# exit, and checks that print TAP lines.
#
#   expect CODE DESCRIPTION COMMAND...   runs COMMAND (stdin as given), stdout
#                                        in $T/out, stderr in $T/err, and
#                                        checks the exit code
#   ok DESCRIPTION COMMAND...            checks that COMMAND succeeds
#   finish                               prints the plan; the script's status

set -u

# An absolute path, so that tests may change directory.
abspath() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$(pwd)/$1" ;;
	esac
}

# shellcheck disable=SC2034 # used by the scripts that source this file
PARLEY=$(abspath "$1")
T=$(mktemp -d "${TMPDIR:-/tmp}/parley-cli.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
count=0
fails=0

report() {
	count=$((count + 1))
	if [ "$1" = ok ]; then
		echo "ok $count - $2"
	else
		fails=$((fails + 1))
		echo "not ok $count - $2"
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

# True when stderr of the last expect holds the fixed string $1.
said() {
	grep -F -q -e "$1" "$T/err"
}

# The permission bits of a file as ls prints them, e.g. -rw-------.
mode() {
	ls -ld "$1" | cut -c1-10
}

finish() {
	echo "1..$count"
	[ "$fails" -eq 0 ]
}

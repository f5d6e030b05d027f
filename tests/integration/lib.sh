# shellcheck shell=sh
# Shared by the CLI tests that need no exchange (POSIX sh, sourced): the parley binary,
# a temporary directory removed on exit, and the TAP checks of tap.sh.

set -u
# shellcheck source=tests/integration/tap.sh
. "$(dirname "$0")/tap.sh"

# shellcheck disable=SC2034 # used by the scripts that source this file
PARLEY=$(abspath "$1")
T=$(mktemp -d "${TMPDIR:-/tmp}/parley-cli.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

# The permission bits of a file as ls prints them, e.g. -rw-------.
mode() {
	ls -ld "$1" | cut -c1-10
}


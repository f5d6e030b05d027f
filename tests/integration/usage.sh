#!/bin/sh
# parley usage: --help on the tool and every verb, bad usage, and that the
# manual page documents every option the help texts list.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
MAN=$2

expect 0 "--help" "$PARLEY" --help
ok "--help lists keygen" grep -q '^  keygen ' "$T/out"
ok "--help lists note" grep -q '^  note ' "$T/out"
ok "--help lists log" grep -q '^  log ' "$T/out"
expect 0 "-h" "$PARLEY" -h
expect 0 "--version" "$PARLEY" --version
ok "--version names the tool" grep -q '^parley ' "$T/out"
expect 2 "no verb" "$PARLEY"
ok "no verb: prints usage" said "usage: parley"
expect 2 "unknown verb" "$PARLEY" frobnicate
ok "unknown verb: names it" said "unknown verb 'frobnicate'"
expect 2 "unknown global option" "$PARLEY" --frobnicate

for verb in "keygen" "note" "note sign" "note verify" "log" "log verify-proof"; do
	# shellcheck disable=SC2086 # verb is words
	help_documented "$MAN" $verb
done
for verb in "keygen" "note" "log"; do
	ok "parley.1 documents $verb" grep -q -e "^\.Cm $verb" "$MAN"
done
ok "parley.1 documents the exit codes" grep -q '^\.Sh EXIT STATUS' "$MAN"

finish

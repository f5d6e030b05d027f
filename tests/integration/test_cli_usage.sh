#!/bin/sh
# parley's client verbs without an exchange: --help on each (on stdout, nothing on stderr, every
# long option documented in parley.1), and bad arguments: usage errors with exit status 2.
# shellcheck source=tests/integration/test_cli_lib.sh
. "$(dirname "$0")/test_cli_lib.sh"
MAN=$(dirname "$0")/../../man/parley.1

for verb in init send inbox show convey decline accept refuse statement consult advise group \
	coordination measures thread parties "log checkpoint" statements "log proof"; do
	# shellcheck disable=SC2086 # verb is words
	help_documented "$MAN" $verb
	ok "parley.1 has a section for $verb" grep -q -e "^\.Ss .*${verb% *}" "$MAN"
	# shellcheck disable=SC2016 # expanded by the inner shell
	ok "parley --help lists $verb" sh -c '"$1" --help | grep -q "^  ${2% *} "' sh "$PARLEY" "$verb"
done

mkdir -p "$HOME"
expect 2 "init without arguments" "$PARLEY" init
ok "init: says what it needs" said "needs --exchange, --party and --key-dir"
expect 2 "init with a bad party name" "$PARLEY" init --exchange http://127.0.0.1:1 \
	--party Bad --key-dir "$T" --log-key x
expect 2 "init with a stray argument" "$PARLEY" init extra
expect 2 "init with an unknown option" "$PARLEY" init --frobnicate
expect 2 "init with an option missing its argument" "$PARLEY" init --exchange
expect 2 "init with a missing key directory" "$PARLEY" init --exchange http://127.0.0.1:1 \
	--party kpa --key-dir "$T/none" --profile "$T/p"
"$PARLEY" keygen --party kpa --exchange hotline.example --out "$T/ids" >/dev/null
expect 2 "init with a URL that is not http" "$PARLEY" init --exchange ftp://x --party kpa \
	--key-dir "$T/ids" --log-key hotline.example+00000000+AQ== --profile "$T/p"
expect 2 "init with a log key that does not parse" "$PARLEY" init --exchange http://127.0.0.1:1 \
	--party kpa --key-dir "$T/ids" --log-key "not+a+key" --profile "$T/p"
expect 2 "a verb with no profile anywhere" "$PARLEY" inbox
expect 2 "a verb with an empty profile directory" "$PARLEY" parties --profile "$T"
mkdir -p "$T/bad"
printf 'parley/profile/v1\nexchange ftp://x\n' >"$T/bad/profile"
expect 2 "a damaged profile" "$PARLEY" parties --profile "$T/bad"
ok "a damaged profile: says why" said "exchange is not an http:// or https:// URL"
expect 2 "send without --to" "$PARLEY" send --profile "$T/bad"
expect 2 "send with --position" "$PARLEY" send --to kpa --position concur --profile "$T/bad"
expect 2 "statement with an id" "$PARLEY" statement 0123456789 --profile "$T/bad"
expect 2 "show without an id" "$PARLEY" show
expect 2 "decline without --reason" "$PARLEY" decline 0123456789
expect 2 "advise with a bad --position" "$PARLEY" advise 0123456789 --position yes
expect 2 "inbox --wait not a number" "$PARLEY" inbox --wait soon
expect 2 "log without a sub-command" "$PARLEY" log
expect 2 "log checkpoint with an argument" "$PARLEY" log checkpoint extra
# The operands after the options: one record ID, or none; each message and pointer to --help exact.
while IFS='|' read -r verb args msg; do
	# shellcheck disable=SC2086 # verb and args are words
	expect 2 "$verb $args" "$PARLEY" $verb $args
	printf 'parley %s: %s\nTry '"'"'parley %s --help'"'"'.\n' "$verb" "$msg" "$verb" >"$T/want"
	ok "$verb $args: says exactly what is wrong" cmp -s "$T/want" "$T/err"
done <<'EOF'
thread||missing the record ID
thread|a b|more than one record ID
dossier|--output x|missing the record ID
dossier|a b --output x|more than one record ID
show|a b|more than one record ID
statement|x|unexpected argument 'x'
inbox|extra|unexpected argument 'extra'
init|extra|unexpected argument 'extra'
agent|extra|unexpected argument 'extra'
log audit|extra|unexpected argument 'extra'
convey|0123456789 --to kpa|unknown option '--to'
inbox|--wait 61|--wait '61': not a number from 0 to 60
agent|--exec-timeout 0|--exec-timeout '0': not a number from 1 to 3600
note|sign --key a --key b|sign takes one --key
EOF
# Each verb's --help lists the options that verb takes, and no other verb's.
"$PARLEY" convey --help >"$T/out"
# shellcheck disable=SC2016 # expanded by the inner shell
ok "convey --help does not offer --to" sh -c '! grep -q -e "--to" "$1"' sh "$T/out"
"$PARLEY" send --help >"$T/out"
ok "send --help offers --to" grep -q -e "--to PARTY" "$T/out"
finish

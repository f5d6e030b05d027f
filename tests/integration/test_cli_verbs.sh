#!/bin/sh
# parley against a real parleyd on 127.0.0.1: init, every verb that authors or reads records,
# id prefixes, sealed content, the exchange's refusals (exit 3), usage errors (exit 2), the
# long poll, and a chain head recovered from the exchange after a conflict.
# shellcheck source=tests/integration/test_cli_lib.sh
. "$(dirname "$0")/test_cli_lib.sh"

ok "an exchange with five parties" setup_exchange rok-mnd unc kpa us-wh dprk
ok "parleyd serves on a free port" start_exchange "$DATA"
MAIN=$LASTPID

# init
expect 0 "init rok-mnd with --log-key" "$PARLEY" init --exchange "$URL" --party rok-mnd \
	--key-dir "$IDS" --log-key "$DATA/log.vkey" --profile "$T/prof/rok-mnd"
ok "init prints the origin" printed "origin hotline.example"
ok "init prints the pinned checkpoint" grep -q '^checkpoint 10 ' "$T/out"
ok "the profile is private" [ "$(stat -c %a "$T/prof/rok-mnd/profile")" = 600 ]
ok "the state lives in the named profile directory" [ -f "$T/prof/rok-mnd/state.db" ]
expect 2 "init again without --force" "$PARLEY" init --exchange "$URL" --party rok-mnd \
	--key-dir "$IDS" --log-key "$DATA/log.vkey" --profile "$T/prof/rok-mnd"
ok "init again: says the profile exists" said "exists; give --force"
expect 0 "init again with --force" "$PARLEY" init --exchange "$URL" --party rok-mnd \
	--key-dir "$IDS" --log-key "$DATA/log.vkey" --profile "$T/prof/rok-mnd" --force
expect 0 "init without --log-key: trust on first use" "$PARLEY" init \
	--exchange "$URL" --party kpa --key-dir "$IDS" --profile "$T/prof/tofu"
ok "init without --log-key: says so loudly" said "WARNING: no --log-key given"
ok "init without --log-key: shows the key it trusts" said "$(cat "$DATA/log.vkey")"
ok "init without --log-key: pins the exchange's own key" \
	grep -qF "log-key $(cat "$DATA/log.vkey")" "$T/prof/tofu/profile"
"$PARLEY" keygen --party other --exchange hotline.example --out "$T/otherlog" >/dev/null
"$PARLEY" keygen hotline.example --out "$T/otherlog" >/dev/null
expect 1 "init with the wrong log key" "$PARLEY" init --exchange "$URL" --party kpa \
	--key-dir "$IDS" --log-key "$T/otherlog/hotline.example.vkey" --profile "$T/prof/wrong"
ok "init with the wrong log key: writes no profile" [ ! -e "$T/prof/wrong/profile" ]
expect 2 "init with an unreachable exchange" "$PARLEY" init --exchange http://127.0.0.1:1 \
	--party kpa --key-dir "$IDS" --log-key "$DATA/log.vkey" --profile "$T/prof/unreach"
expect 2 "init with a missing identity" "$PARLEY" init --exchange "$URL" --party nobody \
	--key-dir "$IDS" --log-key "$DATA/log.vkey" --profile "$T/prof/nobody"
ok "profiles for unc, kpa, us-wh and dprk" make_profiles unc kpa us-wh dprk
PARLEY_PROFILE=$T/prof/dprk "$PARLEY" parties >"$T/out" 2>"$T/err"
ok "PARLEY_PROFILE selects the profile" grep -q '^dprk key ' "$T/out"
expect 2 "no profile at all" "$PARLEY" inbox
ok "no profile: says how to make one" said "parley init"

# parties and log checkpoint
expect 0 "parties" as kpa parties
ok "parties lists the five parties" [ "$(wc -l <"$T/out")" -eq 5 ]
ok "parties shows unc with its register index" grep -q '^unc key [0-9a-f]* registered at 2$' "$T/out"
expect 0 "parties --json" as kpa parties --json
ok "parties --json names kpa" printed '"name": "kpa"'
expect 0 "log checkpoint" as kpa "log checkpoint"
ok "log checkpoint prints the size" grep -q '^size 10$' "$T/out"
ok "log checkpoint prints the root" grep -q '^root [A-Za-z0-9+/]*=$' "$T/out"
expect 0 "log checkpoint --json" as kpa "log checkpoint" --json
ok "log checkpoint --json has the size" printed '"size": 10'

# S1: a proposal through an intermediary, conveyed and accepted.
printf 'Military talks at Panmunjom on 1 December?\n' >"$T/body1"
expect 0 "send a proposal via unc" as rok-mnd send --class proposal --to kpa --via unc \
	--deadline +7d --body-file "$T/body1"
ok "send prints kind, id, index and tree" grep -q '^send [0-9a-f]\{64\} index 10 tree [0-9]*$' "$T/out"
S1=$(last_id)
S1P=$(echo "$S1" | cut -c1-8)
expect 0 "unc's inbox" as unc inbox
ok "unc's inbox lists the proposal" grep -q "rok-mnd send proposal to kpa via unc, reply by " "$T/out"
ok "unc's inbox lists the available record" grep -q "exchange available of $(echo "$S1" | cut -c1-16) to unc" "$T/out"
expect 0 "unc's inbox again: nothing new" as unc inbox
ok "unc's inbox again: empty" [ ! -s "$T/out" ]
expect 0 "unc's inbox --all lists it again" as unc inbox --all
ok "inbox --all: the proposal again" grep -q "send proposal" "$T/out"
expect 0 "show by an 8-digit prefix, as the intermediary" as unc show "$S1P"
ok "show: the full id" printed "record $S1"
ok "show: the proof holds" printed "proof included in the log at tree size"
ok "show: the signed record" printed "kind send"
ok "show: the content, opened by the intermediary" printed "Military talks at Panmunjom"
expect 0 "show with an upper-case prefix" as unc show "$(echo "$S1P" | tr a-f A-F)"
expect 0 "show --json" as rok-mnd show "$S1" --json
ok "show --json: the content" printed '"content": "Military talks at Panmunjom on 1 December?\n"'
ok "show --json: the proof" printed '"holds": true'
ok "show --json: the salt" printed '"salt": '
expect 2 "show with a 7-digit prefix" as unc show "$(echo "$S1" | cut -c1-7)"
expect 2 "show with a non-hex id" as unc show zzzzzzzzzz
expect 3 "show an unknown record" as unc show 00000000
ok "show unknown: the exchange's status" said "404"
expect 3 "convey by a party that is not the intermediary" as kpa convey "$S1P"
ok "refused convey: the reason" said "422"
ok "refused convey: names the record" said "convey of $S1P"
expect 0 "convey by the intermediary" as unc convey "$S1P"
ok "convey prints its receipt" grep -q '^convey [0-9a-f]\{64\} index' "$T/out"
expect 3 "convey twice" as unc convey "$S1P"
expect 0 "kpa's inbox has the convey and the availability" as kpa inbox
ok "kpa's inbox: unc conveyed" grep -q "unc convey of $(echo "$S1" | cut -c1-16)" "$T/out"
expect 0 "accept by the recipient" as kpa accept "$S1P" --json
ok "accept --json: the receipt" printed '"kind": "accept"'
expect 3 "accept twice" as kpa accept "$S1P"
expect 0 "the sender's inbox" as rok-mnd inbox
ok "the sender sees the acceptance" grep -q "kpa accept of" "$T/out"

# S1 variant: a letter the intermediary may not read, declined.
echo "A personal letter." >"$T/body2"
expect 0 "send a letter via unc, not readable by it" as rok-mnd send --class letter --to kpa \
	--via unc --no-readable-by-via --body-file "$T/body2"
S2=$(last_id)
expect 0 "show as the intermediary that may not read it" as unc show "$S2"
ok "show: sealed, not a reader" printed "unc is not one of its readers"
expect 0 "show as the sender: readable" as rok-mnd show "$S2"
ok "show as the sender: the content" printed "A personal letter."
expect 0 "decline with a reason" as unc decline "$S2" --reason "Outside the channel's remit"
expect 3 "refuse what was never made available" as kpa refuse "$S2"

# S2: a direct letter refused; a reply.
echo "Direct letter." | as rok-mnd send --class letter --to kpa >"$T/out" 2>"$T/err"
ok "send a direct letter from standard input" [ $? -eq 0 ]
S3=$(last_id)
expect 0 "refuse with a reason" as kpa refuse "$S3" --reason "Not accepted through this channel"
echo "Our answer." >"$T/body4"
expect 0 "reply to a send" as kpa send --to rok-mnd --reply-to "$S1P" --body-file "$T/body4"
R1=$(last_id)
expect 0 "the reply shows what it answers" as rok-mnd show "$R1" --json
ok "reply: its reply-to reference" printed "\"role\": \"reply-to\""
expect 3 "a reply from a party that was not addressed" as dprk send --to kpa --reply-to "$S1P" \
	--body-file "$T/body4"

# Statements citing records, a measure.
printf 'We have not conveyed any messages\nspecific to inter-Korean dialogue.\n' >"$T/st1"
expect 0 "statement citing two records" as unc statement --cites "$S1P" --cites "$S2" \
	--body-file "$T/st1"
ST=$(last_id)
expect 0 "show the statement" as dprk show "$ST"
ok "statement: its public body" printed "specific to inter-Korean dialogue."
ok "statement: both citations" [ "$(grep -c '^ref cites ' "$T/out")" -eq 2 ]
echo "Loudspeakers resume at the MDL" | as rok-mnd statement --measure >"$T/out" 2>"$T/err"
ok "a measure from standard input, without a final newline" [ $? -eq 0 ]
expect 0 "inbox shows the measure" as dprk inbox
ok "the measure's first line" grep -q "rok-mnd statement measure: Loudspeakers resume at the MDL" "$T/out"

# Consultation and advice.
echo "Draft: propose talks on 1 December." >"$T/draft"
expect 0 "consult an ally" as rok-mnd consult --with us-wh --deadline +1d --body-file "$T/draft"
C1=$(last_id)
expect 0 "the ally reads the draft" as us-wh show "$C1"
ok "the draft's content" printed "Draft: propose talks"
expect 0 "the ally advises" as us-wh advise "$C1" --position concur --reason "Coordinate first"
expect 3 "a party not consulted cannot advise" as kpa advise "$C1" --position object
expect 0 "the consulting party sees the advice" as rok-mnd inbox
ok "the advice in the inbox" grep -q "us-wh advise concur on $(echo "$C1" | cut -c1-16): Coordinate first" "$T/out"

# The exchange refuses a record made far from its clock.
echo "From the future." >"$T/future"
PARLEY_NOW=4102444800 "$PARLEY" statement --profile "$T/prof/dprk" --body-file "$T/future" \
	>"$T/out" 2>"$T/err"
ok "a record far in the future: exit 3" [ $? -eq 3 ]
ok "a record far in the future: the exchange's reason" said "the exchange refused: 422"

# Usage errors: exit 2, nothing submitted.
expect 2 "send without --to" as rok-mnd send --body-file "$T/body1"
expect 2 "send with a bad class" as rok-mnd send --to kpa --class memo --body-file "$T/body1"
expect 2 "send with a bad deadline" as rok-mnd send --to kpa --deadline tomorrow --body-file "$T/body1"
expect 2 "send with a zero deadline" as rok-mnd send --to kpa --deadline +0s --body-file "$T/body1"
expect 2 "send to an unknown party" as rok-mnd send --to nobody --body-file "$T/body1"
ok "unknown party: named" said "party nobody"
expect 2 "send to oneself" as rok-mnd send --to rok-mnd --body-file "$T/body1"
expect 2 "send via a recipient" as rok-mnd send --to kpa --via kpa --body-file "$T/body1"
expect 2 "send to the same party twice" as rok-mnd send --to kpa --to kpa --body-file "$T/body1"
expect 2 "send an empty body" as rok-mnd send --to kpa --body-file /dev/null
expect 2 "send a missing body file" as rok-mnd send --to kpa --body-file "$T/missing"
expect 2 "--no-readable-by-via without --via" as rok-mnd send --to kpa \
	--no-readable-by-via --body-file "$T/body1"
expect 2 "decline without --reason" as unc decline "$S1P"
expect 2 "a reason of two lines" as unc decline "$S1P" --reason "$(printf 'a\nb')"
expect 2 "advise without --position" as us-wh advise "$C1"
expect 2 "advise with a bad position" as us-wh advise "$C1" --position maybe
expect 2 "convey without an id" as unc convey
expect 2 "convey with two ids" as unc convey "$S1P" "$S2"
expect 2 "accept a record that is not a send" as kpa accept "$ST"
ok "not a send: says what it is" said "is a statement, not a send"
expect 2 "an option of another verb" as kpa accept "$S1P" --to unc
expect 2 "inbox --wait too long" as kpa inbox --wait 61
expect 2 "show --all is not for show" as kpa show "$S1P" --all
expect 2 "an unknown option" as kpa parties --frobnicate
expect 2 "a missing profile directory" "$PARLEY" inbox --profile "$T/none"

# Long poll: inbox --wait returns when a record arrives.
as kpa inbox >/dev/null 2>&1
as kpa inbox --wait 20 >"$T/poll.out" 2>"$T/poll.err" &
POLL=$!
sleep 1
echo "Are you there?" | as rok-mnd send --to kpa >/dev/null 2>&1
i=0
while [ $i -lt 100 ] && kill -0 "$POLL" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$POLL" 2>/dev/null; then
	kill "$POLL"
	report fail "inbox --wait returns when a record arrives"
else
	report ok "inbox --wait returns when a record arrives"
fi
wait "$POLL"
ok "inbox --wait: the new message" grep -q "rok-mnd send message to kpa" "$T/poll.out"

# Two processes of one party with separate states: the stale one recovers the head on 409.
mkdir -p "$T/prof/rok-mnd2"
sed "s|^state .*|state $T/prof/rok-mnd2/state.db|" "$T/prof/rok-mnd/profile" >"$T/prof/rok-mnd2/profile"
chmod 600 "$T/prof/rok-mnd2/profile"
echo "From the second terminal." >"$T/body5"
expect 0 "a stale chain head is recovered from the exchange" as rok-mnd2 statement \
	--body-file "$T/body5"
SEQ2=$(as rok-mnd2 show "$(last_id)" --json | grep '"seq"' | tr -dc 0-9)
echo "From the first terminal." >"$T/body6"
expect 0 "the first process goes on after it" as rok-mnd statement --body-file "$T/body6"
SEQ3=$(as rok-mnd show "$(last_id)" --json | grep '"seq"' | tr -dc 0-9)
ok "the chain goes on without a fork" [ "$SEQ3" -eq $((SEQ2 + 1)) ]

# An unreachable exchange is an I/O error.
stop_exchange "$MAIN"
expect 2 "inbox with the exchange stopped" as kpa inbox
ok "unreachable: names the exchange" said "exchange http://127.0.0.1"
finish

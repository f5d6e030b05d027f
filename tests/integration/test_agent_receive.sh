#!/bin/sh
# parley agent: it signs `receive` only after the content reached the party (opened and
# checked against its commitment), never for content that is not what the record committed
# to; a blind relay (a send not sealed to its intermediary) signs its receive for the sealed
# message, so that "received by unc, NOT conveyed" holds for it too; --once, the event
# stream, long polls, reconnection with backoff after the exchange went away, and a clean
# exit on SIGTERM and SIGINT.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"
HELPER=$(abspath "$4")

ok "an exchange with rok-mnd, unc and kpa, and an auditor" setup_exchange rok-mnd unc kpa auditor
ok "parleyd serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa auditor

# The line number of the first thread line (text form) matching $2, its log index.
event_index() {
	"$PARLEY" thread "$1" --profile "$T/p/rok-mnd" 2>/dev/null |
		awk -v pat="$2" 'index($0, pat) { sub(/^#/, "", $2); print $2; exit }'
}

# --- --once, readable by the intermediary: opened, then received --------------------------
echo "Proposal for military talks" >"$T/body"
as rok-mnd send --to kpa --via unc --class proposal --deadline +1h --body-file "$T/body"
SEALED=$(last_id)
expect 0 "agent --once as unc" "$PARLEY" agent --once --profile "$T/p/unc"
ok "it printed the arriving send" printed " send $(echo "$SEALED" | cut -c1-16)"
ok "it opened the content and kept the copy" printed "commitment checked, copy kept"
ok "then it signed the receive" printed "signed receive"
ok "and found it in the thread index after it, under the send it names" \
	printed "lists it under the 1 record it refers to"
ok "no evidence of a lie was kept" [ -z "$(ls "$T/p/unc" | grep index-lie)" ]
AVAIL=$(event_index "$SEALED" "made it available to unc")
RECV=$(event_index "$SEALED" "received it for relay")
ok "the receive is in the log" [ -n "$RECV" ]
ok "the receive comes after the send was made available to unc" \
	[ -n "$AVAIL" ] && [ "${RECV:-0}" -gt "${AVAIL:-0}" ]
OPENED_LINE=$(grep -n "copy kept" "$T/out" | cut -d: -f1)
SIGNED_LINE=$(grep -n "signed receive" "$T/out" | cut -d: -f1)
ok "unc's agent printed 'opened' before 'signed receive'" \
	[ "${OPENED_LINE:-9}" -lt "${SIGNED_LINE:-0}" ]
expect 0 "the content is readable to unc" "$PARLEY" show "$SEALED" --profile "$T/p/unc"
ok "show prints the plaintext" printed "Proposal for military talks"

# --- a blind relay: not sealed to the intermediary, received sealed -------------------------
as rok-mnd send --to kpa --via unc --class letter --no-readable-by-via --deadline +4s \
	--body-file "$T/body"
BLIND=$(last_id)
expect 0 "unc cannot read the letter" as unc show "$BLIND"
ok "show says unc is not one of its readers" printed "unc is not one of its readers"
expect 0 "agent --once as unc, for a letter not sealed to it" \
	"$PARLEY" agent --once --profile "$T/p/unc"
ok "it says it relays the letter unread" printed "is sealed to its recipients only: relaying it unread"
ok "it opened nothing" lacks "$T/out" "opened $(echo "$BLIND" | cut -c1-16)"
ok "it signed a sealed receive" printed "signed receive (sealed)"
ok "the letter was made available to unc" [ -n "$(event_index "$BLIND" "made it available to unc")" ]
ok "the thread shows unc's receive of the sealed message" \
	[ -n "$(event_index "$BLIND" "received it for relay (the sealed message reached it)")" ]
ok "the receive is by unc" thread_holds "$BLIND" rok-mnd '"actor":"unc","kind":"receive"'
expect 0 "unc still cannot read it" as unc show "$BLIND"
ok "nothing was opened for unc" printed "unc is not one of its readers"
ok "the exchange records the expiry within 15 s" \
	wait_for 150 thread_holds "$BLIND" rok-mnd '"kind":"expire"'
expect 0 "the thread after the expiry" as rok-mnd thread "$BLIND"
ok "status: received by unc, NOT conveyed, expired" \
	printed "status: received (sealed) by unc, never conveyed to kpa: expired at "
ok "the expiry says unc never conveyed or declined it" \
	printed "unc never conveyed or declined it, so it never reached kpa"
expect 0 "a dossier of the blind letter, as rok-mnd" \
	"$PARLEY" dossier "$BLIND" --output "$T/blind.json" --profile "$T/p/rok-mnd"
expect 0 "it verifies" "$PARLEY" verify "$T/blind.json" --log-key "$T/log.vkey"
ok "verdict: received by unc" printed "received by unc at "
cp "$T/out" "$T/verdicts"
ok "verdict: NOT conveyed, the blind relay's receive among the records of the thread" \
	grep -q "NOT conveyed: the thread index at checkpoint .*received by unc.*none a convey or decline" "$T/verdicts"
ok "the timeline: unc received it but never conveyed or declined it" \
	printed "the intermediary unc received it but never conveyed or declined it"

# A second blind letter, received sealed, then declined.
as rok-mnd send --to kpa --via unc --class letter --no-readable-by-via --deadline +1h \
	--body-file "$T/body"
UNSEALED=$(last_id)
expect 0 "agent --once as unc, for the second blind letter" \
	"$PARLEY" agent --once --profile "$T/p/unc"
ok "it signed a sealed receive" printed "signed receive (sealed)"
expect 0 "unc declines it" as unc decline "$UNSEALED" --reason "Not through this channel"
expect 0 "its thread" as rok-mnd thread "$UNSEALED"
ok "status: received by unc, declined, NOT conveyed" \
	printed "status: received (sealed) by unc, declined: \"Not through this channel\"; never made available to kpa"

# --- content that does not match its record's commitment gets no receive --------------------
OLDPORT=$PORT
stop_server
FORGED=$("$HELPER" forge "$DATA" "$IDS" rok-mnd kpa unc)
ok "a send whose payload does not match its commitment is logged" [ -n "$FORGED" ]
ok "parleyd serves again" start_server "$OLDPORT"
expect 0 "agent --once as unc, for the forged send" "$PARLEY" agent --once --profile "$T/p/unc"
ok "it says the content does not hold" printed "could not open $(echo "$FORGED" | cut -c1-16)"
ok "it signed no receive for it" lacks "$T/out" "signed receive"
ok "the forged send was made available to unc" \
	[ -n "$(event_index "$FORGED" "made it available to unc")" ]
ok "but the log holds no receive by unc" [ -z "$(event_index "$FORGED" "received it")" ]

# --- a second run resumes after what it processed -------------------------------------------
expect 0 "agent --once again as unc" "$PARLEY" agent --once --profile "$T/p/unc"
ok "it found nothing new to receive" lacks "$T/out" "signed receive"

# --- a direct send, and a consult ------------------------------------------------------------
as rok-mnd send --to kpa --class message --body-file "$T/body"
DIRECT=$(last_id)
expect 0 "agent --once as kpa" "$PARLEY" agent --once --profile "$T/p/kpa"
ok "kpa received the direct message" [ -n "$(event_index "$DIRECT" "received it (content")" ]
ok "kpa was not sent the relayed ones yet: no receive" \
	[ -z "$(event_index "$SEALED" "received it (content")" ]
echo "Draft proposal" | "$PARLEY" consult --with unc --body-file - --profile "$T/p/rok-mnd" \
	>"$T/out" 2>"$T/err"
CONSULT=$(last_id)
expect 0 "agent --once as unc, for a consult" "$PARLEY" agent --once --profile "$T/p/unc"
ok "it opened the draft" printed "opened the draft"
ok "a draft gets no receive record" [ -z "$(event_index "$CONSULT" "received")" ]

# --- the event stream, and SIGTERM ----------------------------------------------------------
"$PARLEY" agent --profile "$T/p/kpa" >"$T/kpa.log" 2>&1 &
AGENT=$!
BG="$BG $AGENT"
ok "the streaming agent starts" wait_for 50 grep -q "agent for kpa" "$T/kpa.log"
as rok-mnd send --to kpa --class proposal --deadline +1h --body-file "$T/body"
STREAMED=$(last_id)
ok "the streaming agent receives a new send within 10 s" \
	wait_for 100 holds "$T/kpa.log" "for $(echo "$STREAMED" | cut -c1-16)"
ok "its receive is in the log" [ -n "$(event_index "$STREAMED" "received it (content")" ]

# --- the exchange goes away and comes back: backoff, then reconnection ----------------------
OLDPORT=$PORT
stop_server
ok "parleyd stopped with status 0" [ "$STATUS" -eq 0 ]
ok "the agent notices and retries" wait_for 100 grep -q "retrying in" "$T/kpa.log"
ok "the agent is still running" kill -0 "$AGENT"
ok "parleyd comes back on the same port" start_server "$OLDPORT"
as rok-mnd send --to kpa --class message --body-file "$T/body"
LATER=$(last_id)
ok "after reconnecting it receives the next send (within 40 s)" \
	wait_for 400 holds "$T/kpa.log" "for $(echo "$LATER" | cut -c1-16)"
ok "it said it reconnected (within 5 s)" wait_for 50 grep -q "reconnected to" "$T/kpa.log"
kill -TERM "$AGENT"
ok "SIGTERM: the agent exits within 5 s" wait_for 50 gone "$AGENT"
wait "$AGENT"
ok "SIGTERM: exit status 0" [ $? -eq 0 ]
ok "SIGTERM: it says where it stopped" grep -q "agent for kpa stopped at log index" "$T/kpa.log"
BG=

# --- long polls, and SIGINT -----------------------------------------------------------------
"$PARLEY" agent --poll --profile "$T/p/unc" >"$T/unc.log" 2>&1 &
AGENT=$!
BG="$BG $AGENT"
ok "the polling agent starts" wait_for 50 grep -q "agent for unc" "$T/unc.log"
as rok-mnd send --to kpa --via unc --class proposal --deadline +1h --body-file "$T/body"
POLLED=$(last_id)
ok "the polling agent receives within 10 s" \
	wait_for 100 holds "$T/unc.log" "for $(echo "$POLLED" | cut -c1-16)"
kill -INT "$AGENT"
ok "SIGINT: the agent exits within 5 s" wait_for 50 gone "$AGENT"
wait "$AGENT"
ok "SIGINT: exit status 0" [ $? -eq 0 ]
BG=

# --- usage -------------------------------------------------------------------------------------
documented agent
expect 2 "agent with an argument" "$PARLEY" agent stray --profile "$T/p/unc"
expect 2 "agent with an unknown option" "$PARLEY" agent --frobnicate
expect 2 "agent without a profile" env HOME="$T/nohome" XDG_CONFIG_HOME= PARLEY_PROFILE= \
	"$PARLEY" agent --once

finish

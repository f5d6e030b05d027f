#!/bin/sh
# Keys of a party (docs/records.md §6, §7): the operator evicts a party alone, with a reason;
# the revoke is the exchange's alone, the party's records are refused after it, its timeline
# says the operator evicted it, and the log still audits. Bad arguments to party evict, and a
# second --vkey, which parleyd refuses rather than keep the last.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"

ok "an exchange with rok-mnd, unc, kpa and an auditor" setup_exchange rok-mnd unc kpa auditor
ok "parleyd serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa auditor

echo "Proposal for military talks." >"$T/body"
as kpa statement --body-file "$T/body"
ok "kpa's statement is logged before the eviction" holds "$T/out" "statement "
BEFORE=$(last_id)

stop_server
OLDPORT=$PORT
# The exchange keeps one signing key per party: a second --vkey is refused, not dropped.
expect 2 "party add with --vkey twice is a usage error" \
	"$PARLEYD" party add dprk --data "$DATA" --vkey "$IDS/kpa.vkey" --vkey "$IDS/unc.vkey" \
	--enc-key "$IDS/kpa.ekey"
ok "it names the repeated option" said "--vkey given more than once"
expect 2 "party evict without a reason is a usage error" \
	"$PARLEYD" party evict kpa --data "$DATA"
expect 2 "party evict with the party's key is a usage error" \
	"$PARLEYD" party evict kpa --data "$DATA" --reason "Expelled" --identity "$IDS"
expect 3 "party evict of a party never registered is refused" \
	"$PARLEYD" party evict dprk --data "$DATA" --reason "Expelled"
ok "it says there is no such party" holds "$T/err" "dprk"
expect 2 "party evict with a reason on two lines is refused" \
	"$PARLEYD" party evict kpa --data "$DATA" --reason "Expelled
by the others"
ok "it says what a reason must be" holds "$T/err" "one line of text"
expect 0 "the operator evicts kpa alone" \
	"$PARLEYD" party evict kpa --data "$DATA" --reason "Expelled by the other members"
ok "it prints the revoke's index and id" holds "$T/out" "evicted kpa index"
EVICT=$(awk '{ print $6 }' "$T/out")
expect 3 "evicting kpa again is refused" \
	"$PARLEYD" party evict kpa --data "$DATA" --reason "Again"

ok "parleyd serves again" start_server "$OLDPORT"
# The revoke, as every reader may read it: signed by the exchange alone, with its reason.
ok "rok-mnd reads the eviction in its timeline" \
	thread_holds "$EVICT" rok-mnd '"kind":"revoke"'
expect 0 "parley thread of the eviction" "$PARLEY" thread "$EVICT" --profile "$T/p/rok-mnd"
ok "the timeline says the operator evicted kpa, and why" \
	holds "$T/out" 'evicted the party kpa (the operator, without its signature): "Expelled by the other members"'
ok "the timeline does not say kpa revoked its own keys" lacks "$T/out" "revoked keys of"

# kpa's key is revoked: its records are refused, whatever it signs.
expect 3 "kpa's statement after the eviction is refused" \
	"$PARLEY" statement --body-file "$T/body" --profile "$T/p/kpa"
as rok-mnd send --to kpa --class message --body-file "$T/body"
ok "a send to the evicted kpa is refused" lacks "$T/out" "send "

# The log holds: the eviction follows the rules an auditor replays, and kpa's older
# statement still verifies with the key that was active when it was logged.
expect 0 "the auditor audits the whole log" "$PARLEY" log audit --profile "$T/p/auditor"
ok "every record holds" holds "$T/out" "ok: every tile and the root match"
expect 0 "kpa's statement before the eviction still reads" \
	"$PARLEY" thread "$BEFORE" --profile "$T/p/rok-mnd"

stop_server
expect 0 "parleyd verify holds the store with the eviction" "$PARLEYD" verify --data "$DATA"

finish

#!/bin/sh
# Keys of a party (docs/records.md §6, §7, docs/keys.md): the operator evicts a party alone, with a reason;
# the revoke is the exchange's alone, the party's records are refused after it, its timeline
# says the operator evicted it, and the log still audits. The party returns with a new key
# (not its revoked one): its register names the previous one, its new key starts a chain of its
# own, messages reach it under its new encryption key, and the log and the store still verify;
# another returns in the operator's two steps (prepare, party signs, --signed); an eviction
# while parleyd serves takes effect at once.
# Bad arguments to party evict, and a second --vkey, which parleyd refuses rather than keep the
# last.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"

# Runs a command with its standard output thrown away (not the TAP line of ok).
quiet() {
	"$@" >/dev/null
}

# Signs file $2 with the signer key $1 as a note on standard output.
sign_note() {
	"$PARLEY" note sign --key "$1" <"$2"
}

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

# kpa returns with new keys (docs/keys.md §3); its old, revoked key may not come back.
expect 3 "kpa's revoked key may not return" \
	"$PARLEYD" party add kpa --data "$DATA" --identity "$IDS"
ok "it says the rules refuse it" holds "$T/err" "kpa: breaks a rule"
mkdir -p "$T/ids2"
ok "a new identity for kpa" \
	quiet "$PARLEY" keygen --party kpa --exchange "$ORIGIN" --out "$T/ids2"
expect 0 "kpa returns with its new key" \
	"$PARLEYD" party add kpa --data "$DATA" --identity "$T/ids2"
ok "it prints the register's index and id" holds "$T/out" "registered kpa index"
RETURN=$(awk '{ print $6 }' "$T/out")
expect 3 "kpa cannot be added again while registered" \
	"$PARLEYD" party add kpa --data "$DATA" --identity "$T/ids2"

# unc revokes its own key, and returns in the operator's two steps: the exchange prepares
# the text (naming unc's previous register), unc signs it elsewhere.
expect 0 "unc revokes its key" "$PARLEYD" party revoke unc --data "$DATA" --identity "$IDS"
mkdir -p "$T/ids3"
ok "a new identity for unc" \
	quiet "$PARLEY" keygen --party unc --exchange "$ORIGIN" --out "$T/ids3"
expect 0 "the exchange prepares unc's return" "$PARLEYD" party add unc --data "$DATA" \
	--vkey "$T/ids3/unc.vkey" --enc-key "$T/ids3/unc.ekey"
ok "the text names unc's previous register" holds "$T/out" "ref previous "
cp "$T/out" "$T/unc.register"
expect 0 "unc signs it with its new key" \
	sign_note "$T/ids3/unc.skey" "$T/unc.register"
cp "$T/out" "$T/unc.signed"
expect 0 "the exchange logs unc's return" \
	"$PARLEYD" party add unc --data "$DATA" --signed "$T/unc.signed"
ok "unc is registered again" holds "$T/out" "registered unc index"

ok "parleyd serves again" start_server "$OLDPORT"
# The revoke, as every reader may read it: signed by the exchange alone, with its reason.
ok "rok-mnd reads the eviction in its timeline" \
	thread_holds "$EVICT" rok-mnd '"kind":"revoke"'
expect 0 "parley thread of the eviction" "$PARLEY" thread "$EVICT" --profile "$T/p/rok-mnd"
ok "the timeline says the operator evicted kpa, and why" \
	holds "$T/out" 'evicted the party kpa (the operator, without its signature): "Expelled by the other members"'
ok "the timeline does not say kpa revoked its own keys" lacks "$T/out" "revoked keys of"

# kpa's old key is revoked: its records are refused, whatever it signs.
expect 3 "a statement signed by kpa's revoked key is refused" \
	"$PARLEY" statement --body-file "$T/body" --profile "$T/p/kpa"

# The returned kpa: a new profile on its new key, whose records start a chain of their own.
ok "a profile for the returned kpa" quiet "$PARLEY" init --exchange "$URL" --party kpa \
	--key-dir "$T/ids2" --log-key "$(cat "$T/log.vkey")" --profile "$T/p/kpa2"
expect 0 "parley thread of the return" "$PARLEY" thread "$RETURN" --profile "$T/p/rok-mnd"
ok "the timeline says kpa registered again, after its previous register" \
	holds "$T/out" "registered the party kpa again, after its previous register"
expect 0 "the returned kpa's first statement is logged" \
	"$PARLEY" statement --body-file "$T/body" --profile "$T/p/kpa2"
ok "it is accepted" holds "$T/out" "statement "
AFTER=$(awk 'NR == 1 { print $2 }' "$T/out")
# The explorer's statement page names the key its author signed with then: the old key for
# the statement before the eviction, the new one after the return.
curl -s "$URL/statement/$BEFORE" >"$T/page-before"
curl -s "$URL/statement/$AFTER" >"$T/page-after"
ok "the page of kpa's statement before its eviction names its old key" \
	grep -qF "data-author-key=\"$(cat "$IDS/kpa.vkey")\"" "$T/page-before"
ok "the page of its statement after the return names its new key" \
	grep -qF "data-author-key=\"$(cat "$T/ids2/kpa.vkey")\"" "$T/page-after"
expect 0 "and its second" "$PARLEY" statement --body-file "$T/body" --profile "$T/p/kpa2"
as rok-mnd send --to kpa --class message --body-file "$T/body"
ok "rok-mnd sends to the returned kpa" holds "$T/out" "send "
SENT=$(last_id)
as kpa2 agent --once
ok "the returned kpa opens it with its new encryption key" \
	wait_for 100 thread_holds "$SENT" rok-mnd '"kind":"receive"'
expect 3 "the old key still may not sign" \
	"$PARLEY" statement --body-file "$T/body" --profile "$T/p/kpa"

# An eviction while parleyd serves (through its control socket): refused at once.
expect 0 "the operator evicts the returned kpa while parleyd serves" \
	"$PARLEYD" party evict kpa --data "$DATA" --reason "Expelled again"
ok "it prints the revoke" holds "$T/out" "evicted kpa index"
ok "parleyd still serves" kill -0 "$PID"
expect 3 "the returned kpa's statement is refused from then on" \
	"$PARLEY" statement --body-file "$T/body" --profile "$T/p/kpa2"

# The log holds: the eviction follows the rules an auditor replays, and kpa's older
# statement still verifies with the key that was active when it was logged.
expect 0 "the auditor audits the whole log" "$PARLEY" log audit --profile "$T/p/auditor"
ok "every record holds" holds "$T/out" "ok: every tile and the root match"
expect 0 "kpa's statement before the eviction still reads" \
	"$PARLEY" thread "$BEFORE" --profile "$T/p/rok-mnd"
expect 0 "and its statement after the return" "$PARLEY" thread "$AFTER" --profile "$T/p/rok-mnd"

stop_server
expect 0 "parleyd verify holds the store with the eviction" "$PARLEYD" verify --data "$DATA"

finish

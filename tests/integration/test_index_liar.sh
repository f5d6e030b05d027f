#!/bin/sh
# A lying exchange: parleyd_liar (parleyd's own code with the exchange's test-only hook) leaves
# every record of unc out of the thread index it commits to, and serves proofs that agree
# with the lie: all signed like the truth. unc's agent checks the index after its receive,
# keeps the evidence and stops, and so does a verb (a statement citing the send); a dossier (format 2) built on the lying index verifies and
# says unc never received the send, which unc's evidence refutes; an auditor's log audit
# recomputes the index from the log and names the first index record that lies.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"

ok "an exchange with rok-mnd, unc and kpa" setup_exchange rok-mnd unc kpa
# kpa audits the whole log: parleyd.conf names it an auditor.
echo 'auditors = kpa' >>"$T/parleyd.conf"
export PARLEY_LIAR_OMITS=unc
ok "the lying exchange serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa

# --- the party whose record is left out: its agent ------------------------------------------
echo "Proposal for military talks" >"$T/body"
as rok-mnd send --to kpa --via unc --class proposal --deadline +1h --body-file "$T/body"
SEND=$(last_id)
ok "rok-mnd's send is logged" [ -n "$SEND" ]
expect 1 "unc's agent stops with status 1" "$PARLEY" agent --once --profile "$T/p/unc"
ok "it signed its receive first" printed "signed receive"
ok "it says the exchange lies" said "THE EXCHANGE LIES in its thread index"
ok "it says what the index does" said "leaves out this party's record"
EVIDENCE=$(ls "$T/p/unc"/index-lie-*.txt 2>/dev/null | head -n 1)
ok "it kept the evidence beside its local state" [ -n "$EVIDENCE" ]
ok "it names the file" said "evidence written to $EVIDENCE"
ok "the evidence: its version line" grep -qx "parley/index-lie/v1" "$EVIDENCE"
ok "the evidence: an omission" grep -qx "reason omission" "$EVIDENCE"
ok "the evidence: under the send's id" grep -qx "key $SEND" "$EVIDENCE"
for part in index-record index-inclusion tindex-proof record record-inclusion; do
	ok "the evidence holds the part $part" grep -q "^$part bytes [0-9]*\$" "$EVIDENCE"
done
RECV=$(awk '$1 == "record" && NF == 3 { print $3; exit }' "$EVIDENCE")
AT=$(awk '$1 == "index" && NF == 2 { print $2; exit }' "$EVIDENCE")
ok "the evidence names unc's receive" [ -n "$RECV" ]
ok "the evidence holds the exchange's index record" grep -qx "kind index" "$EVIDENCE"
ok "the index proof lists a record about the send, but not unc's receive" \
	sh -c "grep -q '^entry ' '$EVIDENCE' && ! grep -q '^entry [0-9]* $RECV\$' '$EVIDENCE'"
ok "the receive is in the log all the same" \
	thread_holds "$SEND" rok-mnd '"actor":"unc","kind":"receive"'

# --- the evidence, checked offline by anyone holding the log key -----------------------------
expect 0 "parley evidence proves the omission with the log key" \
	"$PARLEY" evidence "$EVIDENCE" --log-key "$T/log.vkey"
ok "it says what the file is" printed "index lie, from "
ok "it says PROVEN: the signed index leaves out unc's receive" \
	printed "PROVEN: the index the log key"
ok "and names the record left out" printed "leaves out record $(echo "$RECV" | cut -c1-16)"
expect 0 "without --log-key it checks against the file's key" "$PARLEY" evidence "$EVIDENCE"
ok "with a caution to compare the key" printed "caution: checked against the log key the file"
mkdir -p "$T/otherkey" && "$PARLEY" keygen other.example --out "$T/otherkey" >/dev/null
expect 1 "against another log key it is not proven" \
	"$PARLEY" evidence "$EVIDENCE" --log-key "$T/otherkey/other.example.vkey"
ok "it says which part does not verify" printed "NOT PROVEN: the index record is not"
# A tampered copy: another record's id in the header (the record's bytes no longer match it).
sed "s/^record \([0-9]*\) $RECV\$/record \1 $SEND/" "$EVIDENCE" >"$T/ev-swapped"
expect 1 "a copy naming another record is not proven" \
	"$PARLEY" evidence "$T/ev-swapped" --log-key "$T/log.vkey"
ok "it says the bytes do not have that id" printed "do not have its id"
head -c 200 "$EVIDENCE" >"$T/ev-cut"
expect 2 "a truncated copy is malformed" "$PARLEY" evidence "$T/ev-cut" --log-key "$T/log.vkey"
ok "it names the line" said "evidence $T/ev-cut: malformed input: line"

# --- a dossier of the thread: the index the exchange signed contradicts the thread ----------
# The lie is consistent: a dossier built on the index leaves unc's receive out and verifies.
# What refutes it is unc's evidence (above) and the audit (below): docs/index.md §7.
expect 0 "rok-mnd's dossier of the send, built on the lying index, verifies" \
	"$PARLEY" dossier "$SEND" --output "$T/s.json" --profile "$T/p/rok-mnd"
expect 0 "parley verify reads it" "$PARLEY" verify "$T/s.json" --log-key "$T/log.vkey"
ok "it says what the lie buys: NOT received by unc" printed "NOT received by unc"

# --- a party the exchange does not lie about: its record is listed --------------------------
as rok-mnd send --to kpa --class message --body-file "$T/body"
expect 0 "kpa's agent receives a direct message" "$PARLEY" agent --once --profile "$T/p/kpa"
ok "the index after kpa's receive lists it" printed "lists it under the 1 record it refers to"
ok "kpa keeps no evidence" [ -z "$(ls "$T/p/kpa" | grep index-lie)" ]

# --- every verb that writes a record referring to another checks the index too ---------------
echo "The Command notes the proposal." >"$T/note"
expect 1 "unc's statement citing the send stops with status 1" \
	"$PARLEY" statement --cites "$SEND" --body-file "$T/note" --profile "$T/p/unc"
ok "it was logged first: its receipt is printed" printed "statement "
ok "then the verb says the exchange lies" said "THE EXCHANGE LIES in its thread index"
ok "and keeps the evidence" [ "$(ls "$T/p/unc" | grep -c index-lie)" -ge 2 ]
expect 0 "kpa's statement citing the send is listed, and says nothing more" \
	"$PARLEY" statement --cites "$SEND" --body-file "$T/note" --profile "$T/p/kpa"
ok "its one line is the receipt" [ "$(wc -l <"$T/out")" -eq 1 ]
# --- the auditor: the index recomputed from the log ------------------------------------------
expect 1 "kpa's log audit fails" "$PARLEY" log audit --profile "$T/p/kpa"
ok "it names the first index record that lies, at the index after unc's receive" \
	printed "the first at #$AT "
ok "it says why: the recomputed root differs" printed "index: the thread index of the $AT records below it has root"
ok "on standard error too" said "record #$AT "
expect 1 "the audit, in JSON" "$PARLEY" log audit --json --profile "$T/p/kpa"
ok "JSON: the first failure is that index record" \
	json_holds "$T/out" "\"first_failure\":{\"index\":$AT,"

finish

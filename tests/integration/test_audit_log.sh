#!/bin/sh
# parley log audit: a good log of several tiles holds for the exchange's auditor (text and
# JSON), and a member, who may not read the entry bundles, is told the audit is the auditors';
# a copy of the store in which one record was rewritten with its leaf hash is refused by
# parleyd itself (and parleyd verify names the damage); once an operator holding the log key
# has computed the tree again and signed it, parleyd serves it, and the audit fails: for a
# member who saw the old checkpoint, two histories; for a new auditor, the record's signature,
# naming its index; bad arguments.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"
HELPER=$(abspath "$4")

ok "an exchange with rok-mnd, unc, kpa, dprk and an auditor" \
	setup_exchange rok-mnd unc kpa dprk auditor
ok "parleyd serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa auditor

# A log with every kind of step: sends, receipts, a decline, statements, an expiry, advice.
echo "Proposal for military talks." >"$T/body"
as rok-mnd consult --with unc --body-file "$T/body"
CONSULT=$(last_id)
as unc advise "$CONSULT" --position concur
as rok-mnd send --to kpa --via unc --class proposal --deadline +1h --body-file "$T/body"
VIA=$(last_id)
as unc agent --once
as unc decline "$VIA" --reason "Outside the Armistice channel's remit"
echo "We have not conveyed any messages or proposals specific to inter-Korean dialogue." \
	>"$T/statement"
as unc statement --cites "$VIA" --body-file "$T/statement"
STATEMENT_INDEX=$(awk 'NR == 1 { print $4 }' "$T/out")
as rok-mnd send --to kpa --class proposal --deadline +2s --body-file "$T/body"
EXPIRING=$(last_id)
as kpa agent --once
ok "the exchange records the expiry within 15 s" \
	wait_for 150 thread_holds "$EXPIRING" rok-mnd '"kind":"expire"'
as rok-mnd statement --measure --body-file "$T/body"

# Enough records for a second entry bundle and a level-1 hash tile (each statement in its
# batch, with the index record that ends it), but not a third bundle: parleyd's check at start
# still reaches into the first tile.
stop_server
OLDPORT=$PORT
ok "150 statements by dprk, logged directly" "$HELPER" bulk "$DATA" "$IDS" dprk 150
ok "parleyd serves again" start_server "$OLDPORT"
as rok-mnd statement --body-file "$T/body"
SIZE=$(awk 'NR == 1 { print $6 }' "$T/out")
ok "the log now spans two entry bundles, not three" [ "${SIZE:-0}" -gt 256 -a "${SIZE:-0}" -le 512 ]

expect 0 "audit as the auditor" "$PARLEY" log audit --profile "$T/p/auditor"
ok "it names the log and its size" printed "log hotline.example at size $SIZE"
ok "it counted every record" printed "records: $SIZE ("
ok "it fetched both bundles and three hash tiles" \
	printed "fetched 2 entry bundles and 3 hash tiles"
ok "it says everything holds" printed "ok: every tile and the root match"
ok "no progress bar when standard error is not a terminal" [ ! -s "$T/err" ]
expect 0 "audit as the auditor, in JSON" "$PARLEY" log audit --json --profile "$T/p/auditor"
ok "JSON: ok is true" json_holds "$T/out" '"ok":true'
ok "JSON: no failure" json_holds "$T/out" '"failures":0,"first_failure":null'
ok "JSON: the counts by kind" json_holds "$T/out" '"expire":1'
# Need-to-know: entry bundles hold everyone's records, so a member may not audit the whole log.
expect 3 "audit as a member is refused" "$PARLEY" log audit --profile "$T/p/kpa"
ok "it says the audit is the auditors' and names the setting" \
	said "log audit is for the exchange's auditors, and kpa is not one"
ok "it names parleyd.conf's auditors" said "parleyd.conf (\`auditors\`)"

# A copy of the store with unc's statement rewritten, and its leaf hash to match.
stop_server
cp -R "$DATA" "$T/copy" && rm -f "$T/copy/parley.lock"
ok "rewrite record $STATEMENT_INDEX in the copy" "$HELPER" rewrite "$T/copy/parley.db" \
	"$STATEMENT_INDEX" "have not conveyed" "have now conveyed"
DATA=$T/copy
"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" --listen "127.0.0.1:$OLDPORT" \
	2>"$T/refused.log"
ok "parleyd refuses to serve the tampered copy (exit 1)" [ $? -eq 1 ]
ok "it says the store is damaged" grep -q "damaged store" "$T/refused.log"
expect 1 "parleyd verify finds the damage" "$PARLEYD" verify --data "$DATA"
ok "it names the record's id" printed "damaged: record $STATEMENT_INDEX does not hash to its id"
ok "it names the stored hash above it" printed "is not the hash of the two below it"

# The operator goes on: the whole tree computed again, the newest checkpoint signed again.
ok "the tree of the copy computed and signed again" "$HELPER" resign "$DATA"
ok "parleyd serves the rewritten history" start_server "$OLDPORT"
expect 1 "audit by a member who saw the old checkpoint fails" \
	"$PARLEY" log audit --profile "$T/p/rok-mnd"
ok "it says: two histories" said "the exchange shows two histories"
mv "$T/p" "$T/p.before"
ok "new profiles, which pin the rewritten checkpoint" make_profiles kpa auditor
expect 1 "audit of the tampered copy fails" "$PARLEY" log audit --profile "$T/p/auditor"
ok "it names the record's index" said "record #$STATEMENT_INDEX "
ok "it says why: the signature" said "signature"
ok "the summary says FAILED at that index" printed "the first at #$STATEMENT_INDEX"
expect 1 "audit of the tampered copy, in JSON" "$PARLEY" log audit --json \
	--profile "$T/p/auditor"
ok "JSON: ok is false" json_holds "$T/out" '"ok":false'
ok "JSON: the first failure's index" \
	json_holds "$T/out" "\"first_failure\":{\"index\":$STATEMENT_INDEX,"
# The statement cites a send: the index after it lists its old id, which the rewrite changed.
ok "JSON: the tiles and the root hold: the signature fails, and the index that lists it" \
	json_holds "$T/out" '"failures":2,'

# Bad arguments.
documented log audit
expect 2 "log audit with an argument" "$PARLEY" log audit stray --profile "$T/p/kpa"
expect 2 "log audit with an unknown option" "$PARLEY" log audit --frobnicate

finish

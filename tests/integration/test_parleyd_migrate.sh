#!/bin/sh
# parleyd migrate: an exchange that ran on SQLite (the S1 and S3 flows, then two seconds
# of load, every acknowledgement kept) is moved into PostgreSQL. Refused
# while parleyd runs; then every record, hash and checkpoint copied, compared, and the store
# verified where it now is; parleyd serves the same log from the database, every
# acknowledgement made on SQLite still proven there, and logs more; a second move is refused,
# and so is an init --store on a database that holds a store (leaving no location behind).
# Arguments: PARLEYD DRIVER; the empty database in PL_TEST_STORE_URL (tests/pg/run_integration.sh).
TO=${PL_TEST_STORE_URL:-}
unset PL_TEST_STORE_URL
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

ok "a database to move into" [ -n "$TO" ]
ok "a store with the scenario parties, in SQLite" setup_store
ok "parleyd serve answers on a free port" start_server
drive flows "$URL" "$DATA" "$IDS"
"$DRIVER" load "$URL" "$DATA" "$IDS" "$T/acks" 2 >"$T/load.out" 2>&1
ok "records logged and acknowledged under load" [ -s "$T/acks" ]
expect 2 "migrate refuses a running exchange" "$PARLEYD" migrate --data "$DATA" --to "$TO"
ok "and says why" said "stop parleyd first"
stop_server TERM
ok "parleyd stops" [ "$STATUS" -eq 0 ]
expect 2 "migrate refuses what is not a postgresql URI" \
	"$PARLEYD" migrate --data "$DATA" --to "mysql://db/x"
ok "and leaves the store where it was" [ ! -e "$DATA/store.url" ]
expect 0 "migrate moves the store" "$PARLEYD" migrate --data "$DATA" --to "$TO"
ok "and verifies it there: sound" printed ": sound"
ok "the data directory names the database" [ -s "$DATA/store.url" ]
ok "only its owner reads that" [ "$(stat -c %a "$DATA/store.url")" = 600 ]
expect 0 "parleyd verify: sound, on PostgreSQL" "$PARLEYD" verify --data "$DATA"
ok "parleyd serve answers, on PostgreSQL" start_server
drive verify-acks "$URL" "$DATA" "$IDS" "$T/acks"
"$DRIVER" load "$URL" "$DATA" "$IDS" "$T/acks2" 1 >"$T/load.out" 2>&1
ok "and logs more" [ -s "$T/acks2" ]
cat "$T/acks2" >>"$T/acks"
drive verify-consistent "$URL" "$DATA" "$IDS" "$T/acks"
stop_server TERM
ok "parleyd stops" [ "$STATUS" -eq 0 ]
expect 2 "a second move is refused" "$PARLEYD" migrate --data "$DATA" --to "$TO"
ok "and says the store is in PostgreSQL already" said "already in PostgreSQL"
expect 3 "init --store refuses a database that holds a store" \
	"$PARLEYD" init --origin other.example --data "$T/other" --store "$TO"
ok "and leaves no location behind" [ ! -e "$T/other/store.url" ]
expect 2 "init --store refuses what is not a postgresql URI" \
	"$PARLEYD" init --origin other.example --data "$T/third" --store "host=db dbname=x"
ok "and says so" said "not a postgresql:// URI"
finish

#!/bin/sh
# Split brain on one PostgreSQL database: two parleyd that both believe they sequence (the
# lock disabled by its test switch, PARLEY_TEST_NO_SEQUENCER_LOCK), both under load at once.
# Writers serialize on the log head row; a batch that meets the head moved since its own last
# commit rolls back, and its submitters are told to retry (503); a submission whose chain the
# other front end already extended is refused as a fork (409). Neither is acknowledged:
# afterwards every acknowledgement of either is in the one log at its index, no size was
# acknowledged with two checkpoints, every checkpoint either handed out is consistent with the
# final tree, and the store verifies. (The fence itself, call by call: test_store's test_fence.)
# Arguments: PARLEYD DRIVER; the database in PL_TEST_STORE_URL (tests/pg/run_integration.sh).
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

ok "the store is in PostgreSQL" [ -n "${PL_TEST_STORE_URL:-}" ]
ok "a store with the scenario parties" setup_store
DATA_A=$DATA
DATA_B=$T/data-b
cp -a "$DATA_A" "$DATA_B"
rm -f "$DATA_B/parley.lock"
PARLEY_TEST_NO_SEQUENCER_LOCK=1
export PARLEY_TEST_NO_SEQUENCER_LOCK
ok "A answers" start_server
PID_A=$PID
URL_A=$URL
DATA=$DATA_B
ok "B answers too: two sequencers" start_server
PID_B=$PID
URL_B=$URL
: >"$T/acks.a"
: >"$T/acks.b"
"$DRIVER" load "$URL_A" "$DATA_A" "$IDS" "$T/acks.a" 40 >"$T/load.a" 2>&1 &
LOAD_A=$!
"$DRIVER" load "$URL_B" "$DATA_B" "$IDS" "$T/acks.b" 40 >"$T/load.b" 2>&1 &
LOAD_B=$!
wait "$LOAD_A"
wait "$LOAD_B"
sed 's/^/# A: /' "$T/load.a" | grep 'load:'
sed 's/^/# B: /' "$T/load.b" | grep 'load:'
cat "$T/acks.a" "$T/acks.b" >"$T/acks"
ok "records were acknowledged" [ -s "$T/acks" ]
ok "no size was acknowledged with two different checkpoints" \
	sh -c '[ "$(cut -d" " -f3- "$1" | sort -u | cut -d"|" -f2 | sort | uniq -d | wc -l)" -eq 0 ]' \
	sh "$T/acks"
end_pid "$PID_A" TERM
end_pid "$PID_B" TERM
PID=
unset PARLEY_TEST_NO_SEQUENCER_LOCK
DATA=$DATA_A
ok "one parleyd, with its lock, serves the log" start_server
drive verify-acks "$URL" "$DATA_A" "$IDS" "$T/acks"
stop_server TERM
ok "it stops" [ "$STATUS" -eq 0 ]
expect 0 "parleyd verify: sound" "$PARLEYD" verify --data "$DATA_A"
finish

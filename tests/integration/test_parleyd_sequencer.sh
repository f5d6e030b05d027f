#!/bin/sh
# Two parleyd on one PostgreSQL database, one sequencer at a time (docs/postgresql.md). A second
# front end (a copy of the data directory: the same key and the same store) refuses to start
# while the first holds the log; the first killed (-9) under load, its session ends and the lock
# with it, and the second takes the log over: every record the first acknowledged is there,
# every checkpoint it handed out is consistent with the new one; then the first, started
# again, is the one refused.
# Arguments: PARLEYD DRIVER; the database in PL_TEST_STORE_URL (tests/pg/run_integration.sh).
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

ok "the store is in PostgreSQL" [ -n "${PL_TEST_STORE_URL:-}" ]
ok "a store with the scenario parties" setup_store
ok "front end A answers" start_server
DATA_A=$DATA
DATA_B=$T/data-b
cp -a "$DATA_A" "$DATA_B"
rm -f "$DATA_B/parley.lock"

# Runs parleyd serve on $1 in the foreground, bounded; its log in $T/refused.log.
serve_refused() {
	port=$("$DRIVER" freeport) || return 1
	timeout 30 "$PARLEYD" serve --data "$1" --config "$T/parleyd.conf" \
		--listen "127.0.0.1:$port" 2>"$T/refused.log"
}

: >"$T/acks"
"$DRIVER" load "$URL" "$DATA_A" "$IDS" "$T/acks" 400 >"$T/load.out" 2>&1 &
LOAD=$!
expect 2 "front end B refuses to start while A sequences" serve_refused "$DATA_B"
ok "and says why" grep -q "another parleyd sequences this log" "$T/refused.log"
i=0
while [ $i -lt 200 ] && [ "$(wc -l <"$T/acks")" -lt 30 ]; do
	sleep 0.05
	i=$((i + 1))
done
stop_server KILL
ok "A killed (-9) under load" [ "$STATUS" -ne 0 ]
wait "$LOAD"
ok "A had acknowledged records" [ -s "$T/acks" ]
DATA=$DATA_B
ok "front end B takes the log over" start_server
drive verify-acks "$URL" "$DATA_B" "$IDS" "$T/acks"
"$DRIVER" load "$URL" "$DATA_B" "$IDS" "$T/acks" 1 >"$T/load.out" 2>&1
drive verify-consistent "$URL" "$DATA_B" "$IDS" "$T/acks"
expect 2 "A, started again, is refused while B sequences" serve_refused "$DATA_A"
stop_server TERM
ok "B stops" [ "$STATUS" -eq 0 ]
finish

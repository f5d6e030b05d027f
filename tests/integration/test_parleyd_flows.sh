#!/bin/sh
# parleyd over HTTP: the S1 and S3 scenarios, delivery by long poll and event stream, payload
# readers, and the log checked with libparley (tiles, entry bundles, consistency).
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

ok "a store with the scenario parties" setup_store
ok "parleyd serve answers on a free port" start_server
drive flows "$URL" "$DATA" "$IDS"
ok "the log says where it listens" logged 'msg="listening"'
# Stop with a long poll and an event stream open: both must end, and parleyd must exit.
"$DRIVER" hold "$URL" "$DATA" "$IDS" >"$T/hold.out" 2>&1 &
HOLD=$!
i=0
while [ $i -lt 50 ] && ! grep -q holding "$T/hold.out"; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
stop_server TERM
wait "$HOLD"
HOLD_STATUS=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) report ok "${line#ok - }" ;;
	"not ok - "*) report fail "${line#not ok - }" ;;
	esac
done <"$T/hold.out"
ok "the holder exits 0" [ "$HOLD_STATUS" -eq 0 ]
ok "SIGTERM: parleyd exits 0" [ "$STATUS" -eq 0 ]
ok "SIGTERM: it logged stopping and stopped" logged 'msg="stopped"'
ok "every log line is key=value with ts and level" \
	sh -c '! grep -v "^ts=[0-9T:Z-]* level=[a-z]* event=" "$1"' sh "$T/parleyd.log"
finish

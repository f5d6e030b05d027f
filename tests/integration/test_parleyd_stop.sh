#!/bin/sh
# parleyd stopping under load: SIGTERM lets the batch finish and answers it; kill -9 loses no
# acknowledged record; after each restart every acknowledged record is there and every
# checkpoint handed out is consistent with the new one.
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

# Every libmicrohttpd worker of $PID runs $1 nicer than the nicest other thread (the
# sequencer keeps the nice value parleyd was started with).
nice_split() {
	base=99
	workers=
	for d in /proc/"$PID"/task/*; do
		# Field 19 of stat is the nice value; the fields after "pid (comm) " start at 3.
		nice=$(sed 's/^.*) //' "$d/stat" | cut -d' ' -f17)
		if [ "$(cat "$d/comm")" = MHD-worker ]; then
			workers="$workers $nice"
		elif [ "$nice" -lt "$base" ]; then
			base=$nice
		fi
	done
	want=$((base + $1 > 19 ? 19 : base + $1))
	[ -n "$workers" ] || return 1
	for w in $workers; do
		[ "$w" -eq "$want" ] || return 1
	done
}

ok "a store with the scenario parties" setup_store
for sig in TERM KILL; do
	ok "parleyd serve answers ($sig round)" start_server
	if [ "$sig" = TERM ]; then
		ok "its HTTP workers yield to the sequencer (http_nice 5)" nice_split 5
	fi
	: >"$T/acks.$sig"
	"$DRIVER" load "$URL" "$DATA" "$IDS" "$T/acks.$sig" 400 >"$T/load.out" 2>&1 &
	LOAD=$!
	# Stop it while submissions are in flight: once some are acknowledged (bounded wait).
	i=0
	while [ $i -lt 200 ] && [ "$(wc -l <"$T/acks.$sig")" -lt 50 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	stop_server "$sig"
	if [ "$sig" = TERM ]; then
		ok "SIGTERM under load: parleyd exits 0" [ "$STATUS" -eq 0 ]
	else
		ok "kill -9 under load: parleyd is gone" [ "$STATUS" -ne 0 ]
	fi
	wait "$LOAD"
	grep '^# load' "$T/load.out"
	ok "parleyd restarts on the same store ($sig round)" start_server
	# Every acknowledgement so far, of both rounds.
	cat "$T"/acks.* >"$T/acks"
	drive verify-acks "$URL" "$DATA" "$IDS" "$T/acks"
	stop_server TERM
	ok "and stops cleanly ($sig round)" [ "$STATUS" -eq 0 ]
done
finish

#!/bin/sh
# The whole data directory restored from an older copy (store and published file alike): only
# the witnesses still know what the exchange published since. parleyd asks each configured
# witness what it cosigned before sequencing anything and refuses to serve when one has
# cosigned more than the store holds; a witness that cannot be reached does not stop it.
# Arguments: parleyd test_parleyd_driver parley-witness
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"
WITNESS=$(abspath "$3")
WPID=

stop_witness() {
	[ -n "$WPID" ] || return 0
	kill -TERM "$WPID" 2>/dev/null
	wait "$WPID" 2>/dev/null
	WPID=
}

# Starts parley-witness on $WPORT; bounded wait for its health.
start_witness() {
	"$WITNESS" serve --data "$T/w" --listen "127.0.0.1:$WPORT" 2>>"$T/witness.log" &
	WPID=$!
	wait_health "http://127.0.0.1:$WPORT" "$WPID"
}

# True when /checkpoint carries the witness's cosignature at size $1 or more (bounded wait).
cosigned_at_least() {
	i=0
	while [ $i -lt 100 ]; do
		if curl -s -f "$URL/checkpoint" >"$T/cp" && grep -q '^— witness\.example ' "$T/cp" &&
			[ "$(sed -n 2p "$T/cp")" -ge "$1" ]; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# parleyd serve that must end by itself: its exit status, or 124 if it still ran after 10 s.
serve_once() {
	"$PARLEYD" serve "$@" &
	spid=$!
	i=0
	while [ $i -lt 100 ] && kill -0 "$spid" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$spid" 2>/dev/null; then
		kill -KILL "$spid" 2>/dev/null
		wait "$spid"
		return 124
	fi
	wait "$spid"
}

trap 'stop_witness; cleanup' EXIT
ok "a store with the scenario parties" setup_store
ok "a witness that follows it" sh -c "\"$WITNESS\" init --name witness.example --data \"$T/w\" \
	>/dev/null && \"$WITNESS\" log add hotline.example --vkey \"$DATA/log.vkey\" \
	--data \"$T/w\" >/dev/null"
WPORT=$("$DRIVER" freeport)
ok "parley-witness serves" start_witness
printf 'witness_interval_ms = 100\nwitness = http://127.0.0.1:%s %s\n' "$WPORT" \
	"$(cat "$T/w/witness.vkey")" >>"$T/parleyd.conf"
cp -R "$DATA" "$T/backup"
ok "parleyd serves with the witness configured" start_server
: >"$T/acks"
"$DRIVER" load "$URL" "$DATA" "$IDS" "$T/acks" 3 >"$T/load.out" 2>&1
SIZE=$(cut -d'|' -f2 "$T/acks" | sort -n | tail -n 1)
ok "records logged (size $SIZE)" [ "${SIZE:-0}" -gt 14 ]
ok "the witness cosigned size $SIZE" cosigned_at_least "$SIZE"
stop_server TERM
ok "parleyd stops" [ "$STATUS" -eq 0 ]

# The data directory as it was before those records, published file included.
rm -rf "$DATA"
cp -R "$T/backup" "$DATA"
: >"$T/parleyd.log"
port=$("$DRIVER" freeport)
expect 1 "parleyd serve refuses the older directory, exit 1" \
	serve_once --data "$DATA" --config "$T/parleyd.conf" --listen "127.0.0.1:$port"
ok "it names the witness, the size it cosigned and the store's" \
	said "witness witness.example cosigned tree size $SIZE, but the store holds 14 records"
ok "it says it refuses to sequence" said "refusing to sequence"

# A witness that cannot be reached is no reason to refuse: it is only logged.
stop_witness
ok "with the witness down, parleyd serves the older directory" start_server
ok "at the size the store holds: the refused start sequenced nothing" logged "size=14"
ok "and logs that it could not ask the witness" \
	logged 'cannot learn what the witness cosigned'
stop_server TERM
finish

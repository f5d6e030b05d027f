#!/bin/sh
# parleyd's witness client against a real parley-witness on 127.0.0.1 (free ports, stopped by
# PID): a send through parley is cosigned within a bounded wait, /checkpoint then carries the
# cosignature, a dossier exported after it verifies with --witness (1 of 1) and fails the
# quorum with another witness's key; with the witness down parleyd keeps serving and logs,
# and it catches up when the witness is back; the cosignature survives a restart.
# Arguments: parley parleyd test_parleyd_driver parley-witness
# shellcheck source=tests/integration/test_cli_lib.sh
. "$(dirname "$0")/test_cli_lib.sh"
WITNESS=$(abspath "$4")
WPID=

# Starts parley-witness on $WPORT; bounded wait for its health.
start_witness() {
	"$WITNESS" serve --data "$T/w" --listen "127.0.0.1:$WPORT" 2>>"$T/witness.log" &
	WPID=$!
	PIDS="$PIDS $WPID"
	wait_health "http://127.0.0.1:$WPORT" "$WPID"
}

# The checkpoint parleyd serves, in $T/cp; true when it carries witness.example's line and
# its size is at least $1.
cosigned_at_least() {
	curl -s -f "$URL/checkpoint" >"$T/cp" || return 1
	grep -q '^— witness\.example ' "$T/cp" && [ "$(sed -n 2p "$T/cp")" -ge "$1" ]
}

# The tree size printed by the last authoring verb ("KIND ID index N tree M").
last_tree() {
	awk '{ print $NF }' "$T/out"
}

ok "an exchange with rok-mnd and kpa" setup_exchange rok-mnd kpa
# Its dossiers are of format v1, whose window only the exchange's auditors may read.
echo 'auditors = rok-mnd, kpa' >>"$T/parleyd.conf"
ok "a witness that follows it" sh -c "\"$WITNESS\" init --name witness.example --data \"$T/w\" \
	>/dev/null && \"$WITNESS\" log add hotline.example --vkey \"$DATA/log.vkey\" \
	--data \"$T/w\" >/dev/null"
ok "another witness, never asked" \
	sh -c "\"$WITNESS\" init --name other.example --data \"$T/w2\" >/dev/null"
WPORT=$("$DRIVER" freeport)
ok "parley-witness serves on a free port" start_witness
printf 'witness_interval_ms = 200\nwitness = http://127.0.0.1:%s %s\n' "$WPORT" \
	"$(cat "$T/w/witness.vkey")" >>"$T/parleyd.conf"
expect 2 "parleyd refuses a log key as a witness key" sh -c "printf 'witness = \
http://127.0.0.1:1 %s\n' \"\$(cat \"$DATA/log.vkey\")\" >\"$T/bad.conf\" && \
	\"$PARLEYD\" serve --data \"$DATA\" --config \"$T/bad.conf\" --listen 127.0.0.1:1"
ok "it says which line and why" said "line 1: witness: VKEY: not a witness cosignature key"
ok "parleyd serves with the witness configured" start_exchange "$DATA"
EPID=$LASTPID
ok "a profile for each party" make_profiles rok-mnd kpa

echo "Proposal: talks at Panmunjom." >"$T/body"
expect 0 "rok-mnd sends a proposal to kpa" as rok-mnd send --to kpa --class proposal \
	--body-file "$T/body"
ID=$(last_id)
SIZE=$(last_tree)
ok "within 10 s /checkpoint carries the witness's cosignature at size >= $SIZE" \
	wait_for 100 cosigned_at_least "$SIZE"
ok "the served checkpoint verifies with the log key and the witness key" \
	sh -c "\"$PARLEY\" note verify --key \"\$(cat \"$DATA/log.vkey\")\" <\"$T/cp\" >/dev/null &&
	\"$PARLEY\" note verify --key \"\$(cat \"$T/w/witness.vkey\")\" <\"$T/cp\" >/dev/null"
ok "parleyd logged the cosignature" grep -q 'event=witness msg="cosigned" witness=witness.example' \
	"$T/parleyd.log"

expect 0 "dossier of the proposal after the witness cosigned" \
	"$PARLEY" dossier "$ID" --output "$T/d.json" --profile "$T/prof/rok-mnd"
ok "the dossier carries the cosignature" grep -q '— witness\.example ' "$T/d.json"
expect 0 "verify --witness: verified" "$PARLEY" verify "$T/d.json" --log-key "$DATA/log.vkey" \
	--witness "$T/w/witness.vkey"
ok "1 of 1 witness cosigned it" printed "witnesses: 1 of the 1 given cosigned it (1 required)"
ok "the existence bound comes from the witness" printed "when a witness first cosigned"
COSIGNED_AT=$(sed -n 's/.*existed by \([0-9TZ:-]*\), when a witness first cosigned.*/\1/p' \
	"$T/out")
expect 0 "verify --witness --html: the page" "$PARLEY" verify "$T/d.json" \
	--log-key "$DATA/log.vkey" --witness "$T/w/witness.vkey" --html "$T/d.html"
ok "the page names the witness key it relied on, in full" \
	grep -qF "<span class=\"mono\">$(cat "$T/w/witness.vkey")</span> cosigned at" "$T/d.html"
ok "and when that witness cosigned ($COSIGNED_AT)" \
	grep -qF "cosigned at <span class=\"mono\">$COSIGNED_AT</span>" "$T/d.html"
ok "and the log key" grep -qF "<dt>Log key</dt>" "$T/d.html"
expect 0 "verify --witness --json" "$PARLEY" verify "$T/d.json" --log-key "$DATA/log.vkey" \
	--witness "$T/w/witness.vkey" --json
ok "JSON: the witness key and its cosignature's time" \
	grep -qF "\"key\": \"$(cat "$T/w/witness.vkey")\"" "$T/out"
ok "JSON: the cosignature's time" grep -qF "\"time\": \"$COSIGNED_AT\"" "$T/out"
expect 0 "verify --html without --witness" "$PARLEY" verify "$T/d.json" \
	--log-key "$DATA/log.vkey" --html "$T/d0.html"
ok "the page says no witness was verified" \
	grep -qF "<dt>Witnesses</dt><dd>none verified" "$T/d0.html"
expect 1 "verify with another witness's key: the quorum is not met" \
	"$PARLEY" verify "$T/d.json" --log-key "$DATA/log.vkey" --witness "$T/w2/witness.vkey"
ok "it says so" said "cosigned by 0 of the given witnesses, 1 required"
expect 1 "verify with both keys and --quorum 2: not met either" \
	"$PARLEY" verify "$T/d.json" --log-key "$DATA/log.vkey" --witness "$T/w/witness.vkey" \
	--witness "$T/w2/witness.vkey" --quorum 2
ok "it says so" said "cosigned by 1 of the given witnesses, 2 required"

# The explorer and /metrics name the witness and what it cosigned.
WKEY=$(cat "$T/w/witness.vkey")
ok "the explorer's /log names the witness key and when it cosigned" sh -c \
	"curl -s '$URL/log' | grep -qF '<tr><td class=\"mono\">$WKEY</td><td>at <time datetime='"
ok "/metrics: what the witness cosigned" sh -c \
	"curl -s '$URL/metrics' | grep -q '^parley_witness_cosigned_size{witness=\"witness.example\"} [1-9]'"
ok "/metrics: no alarm" sh -c \
	"curl -s '$URL/metrics' | grep -qx 'parley_witness_alarms_total{witness=\"witness.example\"} 0'"

# The witness goes away: parleyd keeps serving and says why nothing is cosigned.
kill -TERM "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
expect 0 "with the witness down, a send still succeeds" as kpa send --to rok-mnd \
	--class message --body-file "$T/body"
ID2=$(last_id)
SIZE2=$(last_tree)
ok "parleyd logs that the witness did not cosign" \
	wait_for 100 grep -q 'level=warn event=witness msg="not cosigned" witness=witness.example' \
	"$T/parleyd.log"
ok "parleyd still answers" "$DRIVER" health "$URL"
ok "/metrics counts the witness's failures" wait_for 100 sh -c \
	"curl -s '$URL/metrics' | grep -q '^parley_witness_failures_total{witness=\"witness.example\"} [1-9]'"
ok "/checkpoint still carries the older cosigned checkpoint" cosigned_at_least "$SIZE"
ok "it is older than the tree" [ "$(sed -n 2p "$T/cp")" -lt "$SIZE2" ]
SERVED=$(sed -n 2p "$T/cp")
expect 0 "log checkpoint as kpa, whose receipt showed the newer tree" as kpa "log checkpoint"
ok "it prints the served checkpoint's size" printed "size $SERVED"
ok "it says the served checkpoint is older than the one seen before" \
	printed "older than the checkpoint of size $SIZE2 seen before, and consistent with it"
ok "it names the newest seen" printed "newest seen: size $SIZE2, root "
ok "it does not say a smaller tree is consistent with a larger one seen before" \
	sh -c '! grep -q "^consistent with size" "$1"' sh "$T/out"
expect 0 "log checkpoint --json as kpa" as kpa "log checkpoint" --json
ok "JSON: older than seen" grep -q '"older_than_seen": true' "$T/out"
ok "JSON: the newest seen" grep -q "\"size\": $SIZE2" "$T/out"
expect 1 "a dossier of the new send, waiting 1 s: no checkpoint covers it" \
	"$PARLEY" dossier "$ID2" --wait 1 --output "$T/d2.json" --profile "$T/prof/kpa"
ok "it said what it waited for" said "waiting for a checkpoint that covers log #"
ok "and why it gave up" said "beyond the checkpoint of size"
ok "nothing was written" [ ! -e "$T/d2.json" ]
ok "the witness comes back on the same port" start_witness
expect 0 "a dossier of the new send waits for the witness's cosignature" \
	"$PARLEY" dossier "$ID2" --wait 20 --output "$T/d2.json" --profile "$T/prof/kpa"
expect 0 "and verifies with the witness's key" "$PARLEY" verify "$T/d2.json" \
	--log-key "$DATA/log.vkey" --witness "$T/w/witness.vkey"
ok "within 20 s parleyd catches up: cosigned at size >= $SIZE2" \
	wait_for 200 cosigned_at_least "$SIZE2"

# Durable: a restarted parleyd serves the cosigned checkpoint at once.
ok "parleyd stops" stop_exchange "$EPID"
ok "the witness stops" sh -c "kill -TERM $WPID; exit 0"
ok "parleyd restarts without its witness reachable" start_exchange "$DATA"
ok "the cosigned checkpoint survived the restart" cosigned_at_least "$SIZE2"
finish

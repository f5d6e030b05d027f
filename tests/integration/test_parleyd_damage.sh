#!/bin/sh
# A store damaged while parleyd was stopped: a byte flipped in an old record, in a stored
# hash, in one of the newest records. parleyd never serves the damaged bytes (500, logged
# as damage, where it served 200 before), refuses to start when the damage is among what
# it checks at start, and `parleyd verify` finds each damage (exit 1) and passes the sound
# store (exit 0), refusing to run beside a running parleyd (exit 2).
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

# The status of GET $2 as party $1 ("-": none).
status() {
	"$DRIVER" get "$URL" "$DATA" "$IDS" "$1" "$2"
}

# The id and leaf hash of probe record $1 (its log index).
id_of() {
	awk -v i="$1" '$1 == i { print $2 }' "$T/probes"
}
leaf_of() {
	awk -v i="$1" '$1 == i { print $3 }' "$T/probes"
}

# Puts the pristine store back, damaged as the arguments of the driver's flip say.
damage() {
	cp "$T/pristine.db" "$DATA/parley.db" && rm -f "$DATA/parley.db-wal" "$DATA/parley.db-shm" &&
		"$DRIVER" flip "$DATA/parley.db" "$@"
}

ok "a store with the scenario parties" setup_store
ok "parleyd serve answers" start_server
# 7 registers, then 300 probes, each in its batch with the index record that ends it
# (probe k at 14 + 2k): tiles 0/000 and 0/001 full, the newest in a partial one.
"$DRIVER" probes "$URL" "$DATA" "$IDS" 300 >"$T/probes" 2>"$T/probes.err"
ok "300 probe records logged" [ "$(wc -l <"$T/probes")" -eq 300 ]
ID20=$(id_of 20)
ID22=$(id_of 22)
ID300=$(id_of 300)
ok "record 20 is served while the store is sound" [ "$(status unc "/records/$ID20")" = 200 ]
ok "the entry bundle 000 is served" [ "$(status us-nsc /tile/entries/000)" = 200 ]
ok "the hash tile 0/000 is served" [ "$(status - /tile/0/000)" = 200 ]
expect 2 "parleyd verify refuses to run beside a running parleyd" \
	"$PARLEYD" verify --data "$DATA"
ok "it says: running" said "running"
stop_server TERM
ok "parleyd stops cleanly" [ "$STATUS" -eq 0 ]
ok "the whole store is in parley.db" [ ! -s "$DATA/parley.db-wal" ]
cp "$DATA/parley.db" "$T/pristine.db"

expect 0 "parleyd verify passes the sound store" "$PARLEYD" verify --data "$DATA"
ok "it says: tree size 614, 614 records, 609 interior hashes, 307 index roots and 0 payloads checked" printed "tree size 614, 614 records, 609 interior hashes, 307 index roots and 0 payloads checked"
ok "it says: sound" printed "sound"
ok "no progress line when standard error is not a terminal" [ ! -s "$T/err" ]
expect 2 "parleyd verify without --data is a usage error" "$PARLEYD" verify
expect 2 "parleyd verify of a directory with no store" "$PARLEYD" verify --data "$T/none"

# A byte of record 20's text (its body "Damage probe 003.").
ok "damage: a byte of record 20" damage text "Damage probe 003."
ok "parleyd starts on it" start_server
ok "record 20 is a 500, not its damaged bytes" [ "$(status unc "/records/$ID20")" = 500 ]
ok "record 22 beside it is served" [ "$(status unc "/records/$ID22")" = 200 ]
ok "the entry bundle holding it is a 500" [ "$(status us-nsc /tile/entries/000)" = 500 ]
ok "its hash tile, undamaged, is served" [ "$(status - /tile/0/000)" = 200 ]
ok "the damage is logged, naming the record" logged "damaged store: record 20 does not match"
stop_server TERM
expect 1 "parleyd verify finds it" "$PARLEYD" verify --data "$DATA"
ok "it says: damaged: record 20 does not match its leaf hash" printed "damaged: record 20 does not match its leaf hash"
ok "it says: DAMAGED, 1 finding" printed "DAMAGED, 1 finding"

# A byte of record 20's stored leaf hash.
ok "damage: a byte of record 20's leaf hash" damage hex "$(leaf_of 20)"
ok "parleyd starts on it" start_server
ok "the hash tile 0/000 is a 500" [ "$(status - /tile/0/000)" = 500 ]
ok "record 20 is a 500" [ "$(status unc "/records/$ID20")" = 500 ]
ok "record 22, in the same tile, is a 500" [ "$(status unc "/records/$ID22")" = 500 ]
ok "the entry bundle 000 is a 500" [ "$(status us-nsc /tile/entries/000)" = 500 ]
ok "record 300, in the next tile, is served" [ "$(status unc "/records/$ID300")" = 200 ]
ok "the hash tile 0/001 is served" [ "$(status - /tile/0/001)" = 200 ]
ok "the damage is logged, naming the tile" logged "damaged store: hash tile 0/0 does not give"
stop_server TERM
expect 1 "parleyd verify finds it" "$PARLEYD" verify --data "$DATA"
ok "it says: damaged: record 20 does not match its leaf hash" printed "damaged: record 20 does not match its leaf hash"
ok "it says: damaged: stored hash" printed "damaged: stored hash"

# A byte of one of the newest records, which parleyd checks before it serves anything.
ok "damage: a byte of record 598" damage text "Damage probe 292."
"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" \
	--listen "127.0.0.1:$("$DRIVER" freeport)" 2>"$T/refused.log"
ok "parleyd refuses to start on it (exit 1)" [ $? -eq 1 ]
ok "and says why" grep -q "record 598 does not match its leaf hash" "$T/refused.log"
expect 1 "parleyd verify finds it" "$PARLEYD" verify --data "$DATA"
ok "it says: damaged: record 598 does not match its leaf hash" printed "damaged: record 598 does not match its leaf hash"

# Restored from the copy, the store is sound and served again.
cp "$T/pristine.db" "$DATA/parley.db"
rm -f "$DATA/parley.db-wal" "$DATA/parley.db-shm"
expect 0 "parleyd verify passes the restored store" "$PARLEYD" verify --data "$DATA"
ok "parleyd starts on it" start_server
ok "record 20 is served again" [ "$(status unc "/records/$ID20")" = 200 ]
stop_server TERM
finish

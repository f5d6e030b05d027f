#!/bin/sh
# A forged exchange state: two copies of one exchange's data directory, with the same log key,
# made to diverge. A client that saw one history and is then shown the other stops with exit
# status 1 and says the exchange shows two histories, naming both checkpoints: same size with
# another root, a larger tree that does not extend the one seen, a tree rolled back, and the
# checkpoint of a receipt.
# shellcheck source=tests/integration/test_cli_lib.sh
. "$(dirname "$0")/test_cli_lib.sh"

# The evidence file the last expect named ("evidence written to PATH: ...").
evidence() {
	sed -n 's/^parley: evidence written to \(.*\): both signed.*/\1/p' "$T/err" | tail -n 1
}

# Extracts checkpoint $2 (seen-before or given-now) of evidence file $1 with public tools:
# the "bytes N" line after its label, then exactly N bytes.
extract() {
	line=$(grep -n -x "checkpoint $2" "$1" | cut -d: -f1)
	[ -n "$line" ] || return 1
	n=$(sed -n "$((line + 4))s/^bytes //p" "$1")
	[ -n "$n" ] || return 1
	off=$(head -n $((line + 4)) "$1" | wc -c)
	tail -c +$((off + 1)) "$1" | head -c "$n"
}

# Both checkpoints of evidence file $1 verify with the log key, and differ.
evidence_holds() {
	extract "$1" seen-before >"$T/seen.note" && extract "$1" given-now >"$T/given.note" &&
		"$PARLEY" note verify --key "$DATA/log.vkey" <"$T/seen.note" >/dev/null &&
		"$PARLEY" note verify --key "$DATA/log.vkey" <"$T/given.note" >/dev/null &&
		! cmp -s "$T/seen.note" "$T/given.note"
}

# Points a profile at another exchange URL (what a network attacker or a lying operator does).
repoint() {
	sed "s|^exchange .*|exchange $2|" "$T/prof/$1/profile" >"$T/prof/$1/profile.new" &&
		mv "$T/prof/$1/profile.new" "$T/prof/$1/profile"
}

ok "an exchange with four parties" setup_exchange rok-mnd unc kpa dprk
ok "parleyd serves it" start_exchange "$DATA"
ok "profiles for all four" make_profiles rok-mnd unc kpa dprk
echo "Before the fork." | as rok-mnd statement >/dev/null 2>&1
ok "a first statement" [ $? -eq 0 ]
stop_exchange "$LASTPID"

# The fork: a copy of the data directory, served beside the original.
ok "copy the data directory" cp -R "$DATA" "$T/forged"
ok "the original serves again" start_exchange "$DATA"
URL_A=$URL
for p in rok-mnd unc kpa dprk; do
	repoint "$p" "$URL_A"
done
ok "the copy serves too, with the same log key" start_exchange "$T/forged"
URL_B=$URL

# A client on A sees size N+1 (rok-mnd's statement); B gets unc's statement at the same index.
echo "History A." | as rok-mnd statement >/dev/null 2>&1
ok "a statement on the original" [ $? -eq 0 ]
mkdir -p "$T/prof/unc-b"
sed -e "s|^exchange .*|exchange $URL_B|" -e "s|^state .*|state $T/prof/unc-b/state.db|" \
	"$T/prof/unc/profile" >"$T/prof/unc-b/profile"
chmod 600 "$T/prof/unc-b/profile"
echo "History B." | as unc-b statement >/dev/null 2>&1
ok "another statement on the copy" [ $? -eq 0 ]
expect 0 "kpa sees the original's checkpoint" as kpa "log checkpoint"
SIZE=$(sed -n 's/^size //p' "$T/out")
ok "kpa pinned one history" [ -n "$SIZE" ]

# 1. Same size, another root.
repoint kpa "$URL_B"
expect 1 "same size, another root: exit 1" as kpa "log checkpoint"
ok "says two histories" said "the exchange shows two histories"
ok "says why" said "same size, different roots"
ok "names the checkpoint seen before" said "seen before: tree size $SIZE, root"
ok "names the checkpoint given now" said "given now: tree size $SIZE, root"
ok "prints both signed checkpoints" [ "$(grep -c '| — hotline.example ' "$T/err")" -eq 2 ]
EV=$(evidence)
ok "names the evidence file, in the profile's state directory" \
	[ -n "$EV" ] && [ "$(dirname "$EV")" = "$T/prof/kpa" ] && [ -f "$EV" ]
ok "the evidence file says what it is and why" \
	[ "$(head -n 1 "$EV")" = "parley/split-view/v1" ] &&
	grep -q -x "reason same size, different roots" "$EV" &&
	grep -q -x "exchange $URL_B" "$EV" && grep -q "^log-key hotline.example+" "$EV"
ok "each checkpoint in it verifies with the log key (public tools), and they differ" \
	evidence_holds "$EV"
ok "it says when and where each was seen" \
	grep -q "^source received from $URL_A at 20[0-9-]*T[0-9:]*Z, pinned in the local state " \
		"$EV" && grep -q "^source received from $URL_B at 20[0-9-]*T[0-9:]*Z$" "$EV"
# The notes the message quotes, line by line, are the ones in the file, byte for byte.
sed -n '/seen before: /,/given now: /s/^    | //p' "$T/err" >"$T/seen.quoted"
sed -n '/given now: /,$s/^    | //p' "$T/err" >"$T/given.quoted"
ok "the file holds both checkpoints byte for byte" \
	cmp -s "$T/seen.quoted" "$T/seen.note" && cmp -s "$T/given.quoted" "$T/given.note"
expect 1 "show stops too: the proof's checkpoint is the other history" as kpa show "$(as rok-mnd inbox --all --json |
	sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -1)"
# 1b. Re-initialising the profile onto the other history fails and changes nothing.
repoint kpa "$URL_A"
cp "$T/prof/kpa/profile" "$T/kpa.profile.before"
expect 1 "init --force cannot repin the same state to the other history" "$PARLEY" init \
	--exchange "$URL_B" --party kpa --key-dir "$IDS" --log-key "$DATA/log.vkey" \
	--profile "$T/prof/kpa" --force
ok "says two histories" said "the exchange shows two histories"
ok "a failed init --force leaves the profile byte-identical" \
	cmp -s "$T/prof/kpa/profile" "$T/kpa.profile.before"
ok "... and no temporary file behind" [ "$(find "$T/prof/kpa" -name '*tmp*' | wc -l)" -eq 0 ]
expect 0 "the profile still points at the history it pinned" as kpa "log checkpoint"
ok "... at the size it pinned" printed "size $SIZE"
# A failed first init leaves nothing either: no profile, no state.
mkdir -p "$T/prof/kpa-new"
cp "$T/prof/kpa/state.db" "$T/prof/kpa-new/state.db"
expect 1 "init onto a state that saw the other history: exit 1" "$PARLEY" init \
	--exchange "$URL_B" --party kpa --key-dir "$IDS" --log-key "$DATA/log.vkey" \
	--profile "$T/prof/kpa-new"
ok "... and writes no profile" [ ! -e "$T/prof/kpa-new/profile" ]
repoint kpa "$URL_B"
# A first init that fails after its state was built aside (the exchange registered the party
# with another key) leaves no profile, no state and no directory.
mkdir -p "$T/other-ids"
"$PARLEY" keygen --party kpa --exchange hotline.example --out "$T/other-ids" >/dev/null
expect 1 "init with a key the exchange did not register: exit 1" "$PARLEY" init \
	--exchange "$URL_A" --party kpa --key-dir "$T/other-ids" --log-key "$DATA/log.vkey" \
	--profile "$T/prof/kpa-other"
ok "... says so" said "registered at hotline.example with another signing key"
ok "... and leaves nothing behind" [ ! -e "$T/prof/kpa-other" ]

# 2. A larger tree on the copy that does not extend the one seen.
echo "More of history B." | as unc-b statement >/dev/null 2>&1
repoint dprk "$URL_A"
expect 0 "dprk sees the original" as dprk "log checkpoint"
repoint dprk "$URL_B"
expect 1 "a larger tree that does not extend it: exit 1" as dprk "log checkpoint"
ok "says the new tree does not extend the old" said "does not extend the old one"
ok "says two histories" said "two histories"
EV=$(evidence)
ok "the evidence holds the consistency proof that does not verify" \
	grep -q "^consistency [0-9]* [0-9]* does-not-verify$" "$EV" && evidence_holds "$EV"

# 3. A tree rolled back: the client saw more than the copy has.
for i in 1 2 3; do
	echo "Original $i." | as rok-mnd statement >/dev/null 2>&1
done
expect 0 "unc sees the original, larger" as unc "log checkpoint"
repoint unc "$URL_B"
expect 1 "a smaller tree that is not a prefix: exit 1" as unc "log checkpoint"
ok "says two histories" said "two histories"
EV=$(evidence)
ok "the evidence says the exchange could not prove the tree it signed" \
	grep -q "^consistency [0-9]* [0-9]* refused$" "$EV" && grep -q "^error HTTP 404" "$EV" &&
	evidence_holds "$EV"

# 4. The checkpoint in a receipt is checked too.
repoint rok-mnd "$URL_B"
echo "Submitted to the copy." | as rok-mnd statement >"$T/out" 2>"$T/err"
ok "a receipt from the other history: exit 1" [ $? -eq 1 ]
ok "a receipt from the other history: says two histories" said "two histories"

# The same copy is fine for a client that only ever saw it.
expect 0 "a client that only saw the copy sees one history" as unc-b "log checkpoint"
finish

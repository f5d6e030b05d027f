#!/bin/sh
# parley log verify-proof: a tlog-proof made by the mkproof helper holds; every
# tampering makes it fail with 1; malformed input and bad usage give 2.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
MKPROOF=$(abspath "$2")

D=$T/log
mkdir "$D"
"$MKPROOF" "$D" || exit 99
LOGKEY=$D/log.vkey

verify() {
	"$PARLEY" log verify-proof "$@"
}

expect 0 "proof holds for the entry" verify "$D/proof" --log-key "$LOGKEY" --entry "$D/entry"
ok "prints one line naming index, origin and size" \
	grep -q '^proof .*: entry 617 is in hotline.example at size 1000$' "$T/out"
expect 0 "proof holds with the key text" \
	verify "$D/proof" --log-key "$(cat "$LOGKEY")" --entry "$D/entry"
LEAF=$(cat "$D/leaf")
expect 0 "proof holds for the leaf hash" verify "$D/proof" --log-key "$LOGKEY" --leaf-hash "$LEAF"
expect 0 "proof from standard input" verify - --log-key "$LOGKEY" --entry "$D/entry" <"$D/proof"
expect 0 "entry from standard input" verify "$D/proof" --log-key "$LOGKEY" --entry - <"$D/entry"
expect 0 "proof in a tree of one" verify "$D/proof0" --log-key "$LOGKEY" --entry "$D/entry0"
expect 0 "explicit origin" \
	verify "$D/proof" --log-key "$LOGKEY" --origin hotline.example --entry "$D/entry"

# Witnesses: w1 and w2 cosigned, w3 did not.
expect 0 "both cosigning witnesses required" verify "$D/proof" --log-key "$LOGKEY" \
	--witness-key "$D/w1.vkey" --witness-key "$D/w2.vkey" --entry "$D/entry"
ok "says how many witnesses cosigned" grep -q 'cosigned by 2 of 2 witnesses$' "$T/out"
expect 1 "a witness that did not cosign" verify "$D/proof" --log-key "$LOGKEY" \
	--witness-key "$D/w1.vkey" --witness-key "$D/w3.vkey" --entry "$D/entry"
ok "names the shortfall" said "cosigned by 1 of the given witnesses, 2 required"
expect 0 "one of two witnesses with --min-witnesses 1" verify "$D/proof" --log-key "$LOGKEY" \
	--witness-key "$D/w1.vkey" --witness-key "$D/w3.vkey" --min-witnesses 1 --entry "$D/entry"
expect 1 "no cosignature at all" verify "$D/proof0" --log-key "$LOGKEY" \
	--witness-key "$D/w1.vkey" --entry "$D/entry0"
awk '/^— witness1.example / { c = substr($3, 20, 1); r = (c == "A") ? "B" : "A";
	$3 = substr($3, 1, 19) r substr($3, 21) } { print }' "$D/proof" >"$T/p-cosig"
ok "cosignature was changed" sh -c '! cmp -s "$1" "$2"' sh "$D/proof" "$T/p-cosig"
expect 0 "a bad cosignature by a witness not asked about is ignored" \
	verify "$T/p-cosig" --log-key "$LOGKEY" --entry "$D/entry"
expect 1 "a bad cosignature by a given witness" verify "$T/p-cosig" --log-key "$LOGKEY" \
	--witness-key "$D/w1.vkey" --witness-key "$D/w2.vkey" --min-witnesses 1 --entry "$D/entry"
ok "says a cosignature fails" said "a witness cosignature does not verify"
expect 2 "--min-witnesses above the witnesses given" verify "$D/proof" --log-key "$LOGKEY" \
	--witness-key "$D/w1.vkey" --min-witnesses 2 --entry "$D/entry"

# The proof does not hold.
expect 1 "another entry" verify "$D/proof" --log-key "$LOGKEY" --entry "$D/entry0"
ok "one-line reason" said "parley: proof $D/proof: entry is not at index 617 of hotline.example at size 1000"
expect 1 "a leaf hash of another entry" \
	verify "$D/proof" --log-key "$LOGKEY" --leaf-hash "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

# Changes one character of line $2 of the proof into file $3, keeping base64 valid.
tamper_line() {
	awk -v n="$2" 'NR == n { c = substr($0, 5, 1); r = (c == "A") ? "B" : "A";
		$0 = substr($0, 1, 4) r substr($0, 6) } { print }' "$1" >"$3"
}
tamper_line "$D/proof" 3 "$T/p-hash"
ok "hash line was changed" sh -c '! cmp -s "$1" "$2"' sh "$D/proof" "$T/p-hash"
expect 1 "tampered proof hash" verify "$T/p-hash" --log-key "$LOGKEY" --entry "$D/entry"
sed 's/^index 617$/index 616/' "$D/proof" >"$T/p-index"
expect 1 "tampered index" verify "$T/p-index" --log-key "$LOGKEY" --entry "$D/entry"
sed 's/^1000$/1001/' "$D/proof" >"$T/p-size"
expect 1 "tampered checkpoint size" verify "$T/p-size" --log-key "$LOGKEY" --entry "$D/entry"
ok "names the key whose signature fails" \
	said "checkpoint: signature does not verify for key hotline.example"
sed '/^c2sp.org/,/^$/{/^[A-Za-z0-9+\/]*=$/d}' "$D/proof" >"$T/p-short"
expect 1 "proof with its hashes removed" verify "$T/p-short" --log-key "$LOGKEY" --entry "$D/entry"
mkdir "$T/other"
"$MKPROOF" "$T/other" || exit 99
expect 1 "another log's key of the same name" \
	verify "$D/proof" --log-key "$T/other/log.vkey" --entry "$D/entry"
expect 1 "checkpoint of another origin" \
	verify "$D/proof" --log-key "$LOGKEY" --origin other.example --entry "$D/entry"
ok "says which log the checkpoint is for" said "checkpoint is for log 'hotline.example', not 'other.example'"

# Malformed input and bad usage.
printf 'not a proof\n' >"$T/garbage"
expect 2 "garbage proof" verify "$T/garbage" --log-key "$LOGKEY" --entry "$D/entry"
sed '1s/.*/c2sp.org\/tlog-proof@v2/' "$D/proof" >"$T/p-v2"
expect 2 "unknown proof version" verify "$T/p-v2" --log-key "$LOGKEY" --entry "$D/entry"
sed '3s/=$//' "$D/proof" >"$T/p-b64"
expect 2 "non-canonical base64 hash" verify "$T/p-b64" --log-key "$LOGKEY" --entry "$D/entry"
head -c 70000 /dev/zero | tr '\0' 'A' >"$T/p-big"
expect 2 "proof over the limit" verify "$T/p-big" --log-key "$LOGKEY" --entry "$D/entry"
head -c 70000 /dev/zero >"$T/e-big"
expect 2 "entry over the limit" verify "$D/proof" --log-key "$LOGKEY" --entry "$T/e-big"
expect 2 "missing proof file" verify "$T/nope" --log-key "$LOGKEY" --entry "$D/entry"
expect 2 "missing entry file" verify "$D/proof" --log-key "$LOGKEY" --entry "$T/nope"
expect 2 "bad leaf hash" verify "$D/proof" --log-key "$LOGKEY" --leaf-hash "abc"
expect 2 "leaf hash of 31 bytes" verify "$D/proof" --log-key "$LOGKEY" \
	--leaf-hash "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA=="
expect 2 "without --log-key" verify "$D/proof" --entry "$D/entry"
expect 2 "a malformed --log-key" verify "$D/proof" --log-key "x+y+z" --entry "$D/entry"
expect 2 "neither --entry nor --leaf-hash" verify "$D/proof" --log-key "$LOGKEY"
expect 2 "both --entry and --leaf-hash" \
	verify "$D/proof" --log-key "$LOGKEY" --entry "$D/entry" --leaf-hash "$LEAF"
expect 2 "without FILE" verify --log-key "$LOGKEY" --entry "$D/entry"
expect 2 "two FILEs" verify "$D/proof" "$D/proof" --log-key "$LOGKEY" --entry "$D/entry"
expect 2 "proof and entry both on stdin" verify - --log-key "$LOGKEY" --entry - </dev/null
expect 2 "bad --min-witnesses" verify "$D/proof" --log-key "$LOGKEY" --min-witnesses x \
	--entry "$D/entry"
expect 2 "log without a sub-command" "$PARLEY" log
expect 2 "log with an unknown sub-command" "$PARLEY" log verify-everything

finish

#!/bin/sh
# parley note sign / verify: round trip, wrong key, tampering, malformed input, limits.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

K=$T/keys
mkdir "$K"
"$PARLEY" keygen hotline.example/unc --out "$K" >/dev/null || exit 99
"$PARLEY" keygen hotline.example/kpa --out "$K" >/dev/null || exit 99
mkdir "$K/other"
"$PARLEY" keygen hotline.example/unc --out "$K/other" >/dev/null || exit 99
UNC_S=$K/hotline.example_unc.skey
UNC_V=$K/hotline.example_unc.vkey
KPA_V=$K/hotline.example_kpa.vkey
OTHER_V=$K/other/hotline.example_unc.vkey

printf 'We have not conveyed any messages or proposals\nspecific to inter-Korean dialogue.\n' >"$T/text"

expect 0 "note sign" "$PARLEY" note sign --key "$UNC_S" <"$T/text"
cp "$T/out" "$T/note"
ok "note starts with the text" sh -c 'head -c "$(wc -c <"$1")" "$2" | cmp -s - "$1"' sh "$T/text" "$T/note"
ok "note has one signature line by the key" \
	[ "$(grep -c '^— hotline.example/unc ' "$T/note")" -eq 1 ]

expect 0 "note verify with the key file" "$PARLEY" note verify --key "$UNC_V" <"$T/note"
ok "verify prints the text" cmp -s "$T/out" "$T/text"
expect 0 "note verify with the key text" "$PARLEY" note verify --key "$(cat "$UNC_V")" <"$T/note"
expect 0 "note verify with -k" "$PARLEY" note verify -k "$UNC_V" <"$T/note"
expect 0 "note verify with an extra unrelated key" \
	"$PARLEY" note verify --key "$KPA_V" --key "$UNC_V" <"$T/note"

expect 1 "wrong key: exit 1" "$PARLEY" note verify --key "$KPA_V" <"$T/note"
ok "wrong key: names the key" said "not signed by key hotline.example/kpa"
expect 1 "same name, other key: exit 1" "$PARLEY" note verify --key "$OTHER_V" <"$T/note"

sed 's/not conveyed/now conveyed/' "$T/note" >"$T/tampered"
expect 1 "tampered text: exit 1" "$PARLEY" note verify --key "$UNC_V" <"$T/tampered"
ok "tampered text: names the key and the reason" \
	said "parley: note: signature does not verify for key hotline.example/unc"
ok "tampered text: prints nothing on stdout" [ ! -s "$T/out" ]

# Flip one character of the signature's base64, keeping it valid base64.
awk '/^— / { c = substr($3, 10, 1); r = (c == "A") ? "B" : "A";
	$3 = substr($3, 1, 9) r substr($3, 11) } { print }' "$T/note" >"$T/badsig"
ok "signature was changed" sh -c '! cmp -s "$1" "$2"' sh "$T/note" "$T/badsig"
expect 1 "tampered signature: exit 1" "$PARLEY" note verify --key "$UNC_V" <"$T/badsig"

expect 2 "garbage: exit 2" "$PARLEY" note verify --key "$UNC_V" <"$T/text"
ok "garbage: says malformed" said "malformed"
expect 2 "empty input: exit 2" "$PARLEY" note verify --key "$UNC_V" </dev/null
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
expect 2 "input over the limit: exit 2" "$PARLEY" note verify --key "$UNC_V" <"$T/big"
ok "over the limit: says so" said "limit"
printf 'text\n\n— hotline.example/unc AAAA\n' >"$T/shortsig"
expect 2 "short signature: exit 2" "$PARLEY" note verify --key "$UNC_V" <"$T/shortsig"

expect 2 "verify with a malformed key text" "$PARLEY" note verify --key "unc+zz+AAAA" <"$T/note"
expect 2 "verify with a missing key file" "$PARLEY" note verify --key "$T/nope" <"$T/note"
expect 2 "verify with a signer key as the key" "$PARLEY" note verify --key "$UNC_S" <"$T/note"
expect 2 "verify without --key" "$PARLEY" note verify <"$T/note"
expect 2 "verify with an extra argument" "$PARLEY" note verify --key "$UNC_V" extra <"$T/note"

printf 'no final newline' >"$T/nonl"
expect 2 "sign: text without a final newline" "$PARLEY" note sign --key "$UNC_S" <"$T/nonl"
printf 'bell \007\n' >"$T/ctl"
expect 2 "sign: text with a control character" "$PARLEY" note sign --key "$UNC_S" <"$T/ctl"
printf '\377\376\n' >"$T/bin"
expect 2 "sign: text that is not UTF-8" "$PARLEY" note sign --key "$UNC_S" <"$T/bin"
expect 2 "sign: empty text" "$PARLEY" note sign --key "$UNC_S" </dev/null
expect 2 "sign: text over the limit" "$PARLEY" note sign --key "$UNC_S" <"$T/big"
expect 2 "sign: missing key file" "$PARLEY" note sign --key "$T/nope" <"$T/text"
cp "$UNC_S" "$T/open.skey"
chmod 644 "$T/open.skey"
expect 2 "sign: refuses a key readable by others" "$PARLEY" note sign --key "$T/open.skey" <"$T/text"
expect 2 "sign: a verifier key is not a signer key" "$PARLEY" note sign --key "$UNC_V" <"$T/text"
expect 2 "sign: two keys" "$PARLEY" note sign --key "$UNC_S" --key "$UNC_S" <"$T/text"
expect 2 "sign without --key" "$PARLEY" note sign <"$T/text"
expect 2 "note without a sub-command" "$PARLEY" note
expect 2 "note with an unknown sub-command" "$PARLEY" note open --key "$UNC_V"

expect 0 "UTF-8 text round trip" sh -c 'printf "군사회담 — 제안\n" | "$1" note sign --key "$2" | "$1" note verify --key "$3"' sh "$PARLEY" "$UNC_S" "$UNC_V"
ok "UTF-8 text comes back" [ "$(cat "$T/out")" = "군사회담 — 제안" ]

finish

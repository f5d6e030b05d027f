#!/bin/sh
# parley keygen: key files, their modes, refusal to overwrite, party identities.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

K=$T/keys
mkdir "$K"

expect 0 "keygen NAME" "$PARLEY" keygen alice --out "$K"
ok "signer key file is 0600" [ "$(mode "$K/alice.skey")" = "-rw-------" ]
ok "verifier key file is 0644" [ "$(mode "$K/alice.vkey")" = "-rw-r--r--" ]
ok "prints the verifier key" cmp -s "$T/out" "$K/alice.vkey"
ok "verifier key is named NAME" grep -q '^alice+[0-9a-f]\{8\}+' "$K/alice.vkey"
ok "signer key is in the signed-note form" grep -q '^PRIVATE+KEY+alice+[0-9a-f]\{8\}+' "$K/alice.skey"
ok "files are one line each" [ "$(cat "$K/alice.skey" "$K/alice.vkey" | wc -l)" -eq 2 ]

cp "$K/alice.skey" "$T/skey.before"
expect 2 "keygen refuses to overwrite" "$PARLEY" keygen alice --out "$K"
ok "refusal names the file" said "alice.skey: already exists"
ok "signer key untouched" cmp -s "$K/alice.skey" "$T/skey.before"

rm "$K/alice.skey"
expect 2 "keygen refuses when only the verifier key exists" "$PARLEY" keygen alice --out "$K"
ok "no signer key was written" [ ! -e "$K/alice.skey" ]

ln -s "$T/elsewhere" "$K/bob.vkey"
expect 2 "keygen refuses a dangling symlink" "$PARLEY" keygen bob --out "$K"
ok "nothing written through the link" [ ! -e "$T/elsewhere" ]
ok "no signer key beside the link" [ ! -e "$K/bob.skey" ]

expect 0 "keygen a name with '/'" "$PARLEY" keygen hotline.example/unc --out "$K"
ok "'/' becomes '_' in file names" [ -f "$K/hotline.example_unc.skey" ]
ok "the key keeps its name" grep -q '^hotline.example/unc+' "$K/hotline.example_unc.vkey"

(cd "$K" && "$PARLEY" keygen here >/dev/null 2>&1)
ok "default directory is the current one" [ -f "$K/here.skey" ]

expect 2 "keygen rejects a name with a space" "$PARLEY" keygen "a b" --out "$K"
expect 2 "keygen rejects a name with '+'" "$PARLEY" keygen "a+b" --out "$K"
expect 2 "keygen without NAME" "$PARLEY" keygen --out "$K"
expect 2 "keygen with two names" "$PARLEY" keygen a b --out "$K"
expect 2 "keygen into a missing directory" "$PARLEY" keygen carol --out "$T/missing"
expect 2 "keygen --out without DIR" "$PARLEY" keygen carol --out
expect 2 "keygen with an unknown option" "$PARLEY" keygen carol --bogus

# Party identities.
P=$T/party
expect 0 "keygen --party" "$PARLEY" keygen --party rok-mnd --exchange hotline.example --out "$P"
ok "party signer key is 0600" [ "$(mode "$P/rok-mnd.skey")" = "-rw-------" ]
ok "party decryption key is 0600" [ "$(mode "$P/rok-mnd.dkey")" = "-rw-------" ]
ok "party verifier key exists" [ -f "$P/rok-mnd.vkey" ]
ok "party encryption key exists" [ -f "$P/rok-mnd.ekey" ]
ok "prints two lines" [ "$(wc -l <"$T/out")" -eq 2 ]
ok "first line is the verifier key ORIGIN/NAME" \
	[ "$(sed -n 1p "$T/out")" = "$(cat "$P/rok-mnd.vkey")" ]
ok "second line is the encryption key" \
	[ "$(sed -n 2p "$T/out")" = "$(cat "$P/rok-mnd.ekey")" ]
ok "verifier key is named ORIGIN/NAME" grep -q '^hotline.example/rok-mnd+' "$P/rok-mnd.vkey"
ok "encryption key is X25519" grep -q '^hotline.example/rok-mnd+x25519+' "$P/rok-mnd.ekey"

cp "$P/rok-mnd.skey" "$T/pskey.before"
expect 2 "keygen --party refuses to overwrite" \
	"$PARLEY" keygen --party rok-mnd --exchange hotline.example --out "$P"
ok "party signer key untouched" cmp -s "$P/rok-mnd.skey" "$T/pskey.before"
expect 2 "keygen --party without --exchange" "$PARLEY" keygen --party kpa --out "$P"
expect 2 "keygen --exchange without --party" "$PARLEY" keygen kpa --exchange hotline.example
expect 2 "keygen --party with a bad name" \
	"$PARLEY" keygen --party ROK --exchange hotline.example --out "$P"
expect 2 "keygen --party with the reserved name" \
	"$PARLEY" keygen --party exchange --exchange hotline.example --out "$P"
expect 2 "keygen --party with NAME too" \
	"$PARLEY" keygen extra --party kpa --exchange hotline.example --out "$P"

# The party's signing key works.
echo "Proposal for military talks." >"$T/text"
expect 0 "party key signs" "$PARLEY" note sign --key "$P/rok-mnd.skey" <"$T/text"
cp "$T/out" "$T/note"
expect 0 "party key verifies" "$PARLEY" note verify --key "$P/rok-mnd.vkey" <"$T/note"

finish

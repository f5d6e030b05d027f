#!/bin/sh
# A statement page verifies its statement in the browser: a real parleyd serves the verifier
# (/assets/parley-verify.js and what it loads); a page holding the contract's
# <section id="pl-verify"> (served by a static server, standing in for the explorer's page)
# names a statement signed by its author, its tlog-proof and the keys (made by the mkproof
# helper). In headless Chromium the honest page says what it checked against which keys; a
# tampered statement, another author key, a witness that did not cosign and another log key
# each say it does not verify, and why. Then the explorer's own page of a statement a party
# logs on that parleyd verifies in the browser too. Screenshots go to $PL_SCREENSHOTS.
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"
MKPROOF=$(abspath "$3")
BROWSER=$(abspath "$4")
PARLEY=$(abspath "$5")
SPID=
trap 'stop_static; cleanup' EXIT

stop_static() {
	if [ -n "$SPID" ]; then end_pid "$SPID" TERM; fi
	SPID=
}

ok "a store with the scenario parties" setup_store
ok "parleyd serve answers on a free port" start_server
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/assets/parley-verify.js")" = 404 ]; then
	count=$((count + 1))
	echo "ok $count # SKIP this parleyd was built without the browser verifier"
	stop_server TERM
	finish
	exit
fi
if ! command -v chromium >/dev/null 2>&1; then
	count=$((count + 1))
	echo "ok $count # SKIP chromium is not installed (make deps)"
	stop_server TERM
	finish
	exit
fi

S=$T/site
mkdir -p "$S"
ok "a signed statement, its tlog-proof and the keys" "$MKPROOF" "$S"
sed 's/baseline/basel1ne/' "$S/statement" >"$S/statement-edited"
vkey() { tr -d '\n' <"$S/$1"; }

# page NAME RECORD AUTHORKEY LOGKEY WITNESSKEYS
page() {
	cat >"$S/$1.html" <<EOT
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Statement</title>
<script src="$URL/assets/parley-verify.js" defer></script></head>
<body><h1>A statement by us-wh</h1>
<section id="pl-verify" data-record="$2" data-proof="statement.proof"
 data-checkpoint="checkpoint" data-author-key="$3" data-log-key="$4"
 data-witness-keys="$5"></section>
</body></html>
EOT
}
W12="$(vkey w1.vkey) $(vkey w2.vkey)"
page good statement "$(vkey author.vkey)" "$(vkey log.vkey)" "$W12"
page edited statement-edited "$(vkey author.vkey)" "$(vkey log.vkey)" "$W12"
page author statement "$(vkey log.vkey)" "$(vkey log.vkey)" "$W12"
page witness statement "$(vkey author.vkey)" "$(vkey log.vkey)" "$W12 $(vkey w3.vkey)"
page logkey statement "$(vkey author.vkey)" "$(vkey author.vkey)" "$W12"

sport=$("$DRIVER" freeport)
(cd "$S" && exec python3 -m http.server --bind 127.0.0.1 "$sport") >"$T/static.log" 2>&1 &
SPID=$!
SURL=http://127.0.0.1:$sport
ok "the static server answers" wait_for 100 curl -sf -o /dev/null "$SURL/good.html"

expect 0 "Chromium opens the statement pages" python3 "$BROWSER" \
	"${PL_SCREENSHOTS:-$T/shots}/statement" "$SURL/good.html" "$SURL/edited.html" \
	"$SURL/author.html" "$SURL/witness.html" "$SURL/logkey.html"
sed -n 1p "$T/out" >"$T/good"
sed -n 2p "$T/out" >"$T/edited"
sed -n 3p "$T/out" >"$T/author"
sed -n 4p "$T/out" >"$T/witness"
sed -n 5p "$T/out" >"$T/logkey"

# seen FILE STATE TEXT...: the page in FILE reached STATE and shows every TEXT.
seen() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["state"] == sys.argv[2] and all(t in s["text"] for t in sys.argv[3:]) else 1)' "$@"
}
ok "the honest statement verifies in the browser" seen "$T/good" verified \
	"Verified in this browser" "is signed by its author's key"
ok "it names the author's key" seen "$T/good" verified "$(vkey author.vkey)"
ok "it names the log key and the entry" seen "$T/good" verified "$(vkey log.vkey)" \
	"entry #7 of the log" "tree size 12"
ok "it names the witnesses that cosigned" seen "$T/good" verified "$(vkey w1.vkey)" \
	"$(vkey w2.vkey)" "cosigned by all 2 witnesses"
ok "an edited statement does not verify: its signature" seen "$T/edited" refused \
	"This statement does not verify." "the statement's signature"
ok "another author key: not signed by it" seen "$T/author" refused \
	"This statement does not verify." "the statement's signature"
ok "a witness that did not cosign: refused" seen "$T/witness" refused \
	"This statement does not verify." "witness"
ok "... saying that the log alone vouches for it, and to look again" seen "$T/witness" \
	refused "without the witnesses it holds" "have not cosigned" "look again later"
ok "another log key: refused" seen "$T/logkey" refused "This statement does not verify."

stop_static

# The explorer's own page (GET /statement/<id>) of a statement us-wh logs on this parleyd.
ok "a profile for us-wh" sh -c "'$PARLEY' init --exchange '$URL' --party us-wh \
	--key-dir '$IDS' --log-key \"\$(cat '$DATA/log.vkey')\" --profile '$T/p' >/dev/null"
echo "The President is open to an exchange of letters." >"$T/body"
ok "us-wh logs a statement" sh -c "'$PARLEY' statement --body-file '$T/body' \
	--profile '$T/p' >'$T/stmt'"
ID=$(awk 'NR == 1 { print $2 }' "$T/stmt")
expect 0 "Chromium opens the explorer's page of it" python3 "$BROWSER" \
	"${PL_SCREENSHOTS:-$T/shots}/explorer-statement" "$URL/statement/$ID"
sed -n 1p "$T/out" >"$T/real"
ok "the explorer's statement page verifies it in the browser" seen "$T/real" verified \
	"Verified in this browser" "is signed by its author's key"
ok "against us-wh's registered key and the log key" seen "$T/real" verified \
	"$(tr -d '\n' <"$IDS/us-wh.vkey")" "$(tr -d '\n' <"$DATA/log.vkey")"

stop_server TERM
finish

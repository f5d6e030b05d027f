#!/bin/sh
# parleyd over HTTP: every error status, authentication failures and replays.
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

# A low request rate, so that one key can exceed it within the test; room for one unreferenced
# payload of a few kilobytes per party.
ok "a store with the scenario parties" setup_store "rate = 10" "rate_burst = 10" \
	"payload_unreferenced_max = 5000"
ok "parleyd serve answers on a free port" start_server
drive errors "$URL" "$DATA" "$IDS"
ok "authentication refusals are logged" logged 'event=auth'

# The browser verifier's files (/assets/): public, typed, immutable; no other name.
code=$(curl -s -o "$T/asset" -D "$T/asset.h" -w '%{http_code}' "$URL/assets/parley-verifier.js")
if [ "$code" = 404 ]; then
	count=$((count + 1))
	echo "ok $count # SKIP /assets: this parleyd was built without the browser verifier"
else
	ok "GET /assets/parley-verifier.js without credentials: 200" [ "$code" = 200 ]
	ok "it is JavaScript" grep -qi '^content-type: text/javascript; charset=utf-8' "$T/asset.h"
	ok "it may be cached for good" \
		grep -qi '^cache-control: public, max-age=31536000, immutable' "$T/asset.h"
	ok "it is not sniffed" grep -qi '^x-content-type-options: nosniff' "$T/asset.h"
	ok "it is the verifier, its WebAssembly inlined" grep -q 'ParleyVerifier' "$T/asset"
	ok "libsodium's build is served too" [ "$(curl -s -o /dev/null -w '%{http_code}' \
		"$URL/assets/libsodium-sumo.js")" = 200 ]
fi
ok "GET /assets/ of an unknown name: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' \
	"$URL/assets/no-such.js")" = 404 ]
ok "GET /assets/ of a path: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' \
	"$URL/assets/a/b.js")" = 404 ]
stop_server INT
ok "SIGINT: parleyd exits 0" [ "$STATUS" -eq 0 ]
finish

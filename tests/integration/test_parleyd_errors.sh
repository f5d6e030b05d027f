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
stop_server INT
ok "SIGINT: parleyd exits 0" [ "$STATUS" -eq 0 ]
finish

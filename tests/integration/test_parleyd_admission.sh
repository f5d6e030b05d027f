#!/bin/sh
# parleyd admission: nobody who has not proven membership holds upload memory, a member is held
# to its own upload allowance, a signed body is checked against its declared Content-Digest, and
# no key's requests can use up the replay-protection memory of another.
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

# setup_store sets payload_max = 1048576; the upload allowances follow it.
ok "a store with the scenario parties" setup_store
ok "parleyd serve answers on a free port" start_server
drive admission-uploads "$URL" "$DATA" "$IDS" 1048576
ok "a member over its upload allowance is logged with its key name" \
	logged 'reason="this key has too many uploads in progress" key="hotline.example/kpa"'
stop_server TERM
ok "SIGTERM: parleyd exits 0" [ "$STATUS" -eq 0 ]

# A small shared pool of nonces: one key's traffic must not use it up for the others.
echo "nonce_max = 64" >>"$T/parleyd.conf"
ok "parleyd serve with nonce_max = 64" start_server
drive admission-nonces "$URL" "$DATA" "$IDS" shared
stop_server TERM
ok "SIGTERM: parleyd exits 0" [ "$STATUS" -eq 0 ]

# And a small reserve per key: the busy key is refused, and only it.
echo "nonce_per_key = 16" >>"$T/parleyd.conf"
ok "parleyd serve with nonce_per_key = 16" start_server
drive admission-nonces "$URL" "$DATA" "$IDS" per-key
ok "the refusal names the busy key" logged "the key's nonce memory is full"
stop_server TERM
ok "SIGTERM: parleyd exits 0" [ "$STATUS" -eq 0 ]
finish

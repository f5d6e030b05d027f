#!/bin/sh
# parleyd under clients that hold its resources: answers nobody reads, request heads sent a
# byte at a time from one address, one member's event streams. Each time, the server's memory
# stays bounded and everyone else is still served.
# Arguments: PARLEYD DRIVER CONNS (the helper that holds the connections).
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"
CONNS=$(abspath "$3")

# Runs the helper and numbers its TAP lines, as drive does for the driver.
conns() {
	run_tap conns "$CONNS" "$@"
}

# A small server: 80 connections in all, 6 event streams; the other limits are the defaults
# (64 connections from one address, 5 s for a request head, 4 streams per key).
ok "a store with the scenario parties" setup_store "max_connections = 80" "sse_max = 6"
ok "parleyd serve answers on a free port" start_server
PORT=${URL##*:}

# Nearly 4 MiB of public statements (one answer holds up to 4 MiB), then 24 clients that ask
# for all of them and never read: each may pin a connection's buffers (tens of KiB), not its
# answer.
conns fill "$PORT" "$IDS" 3840
conns memory "$PORT" "$IDS" "$PID" statements 24 16384
# The same with a member's inbox polls (public statements are in every inbox).
conns memory "$PORT" "$IDS" "$PID" inbox 12 8192

# 100 connections from 127.0.0.2 that send their heads a byte at a time.
conns slow "$PORT" 100 64 5

# 8 record submissions from 127.0.0.3 that send their bodies a byte at a time.
conns slowbody "$PORT" 8 5

# One member's event streams.
conns streams "$PORT" "$IDS" 4

ok "late request heads are logged" logged 'without a request head in time'
stop_server TERM
ok "SIGTERM: parleyd exits 0" [ "$STATUS" -eq 0 ]
finish

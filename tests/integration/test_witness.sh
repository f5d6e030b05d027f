# shellcheck shell=sh
# parley-witness on 127.0.0.1 (a free port), fed the checkpoints and consistency proofs of a
# real parleyd with curl: cosigns what is consistent, refuses the rest with the statuses of
# c2sp.org/tlog-witness, and keeps its state across kill -9.
# Arguments: parley-witness parleyd test_parleyd_driver parley

set -u
# shellcheck source=tests/integration/tap.sh
. "$(dirname "$0")/tap.sh"

WITNESS=$(abspath "$1")
PARLEYD=$(abspath "$2")
DRIVER=$(abspath "$3")
PARLEY=$(abspath "$4")
T=$(mktemp -d "${TMPDIR:-/tmp}/parley-witness.XXXXXX") || exit 99
EPID=
WPID=

stop() {
	if [ -n "$1" ]; then
		kill -"$2" "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	fi
}
cleanup() {
	stop "$EPID" KILL
	stop "$WPID" KILL
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Serves program $1 on data $2 (stderr to $3) at a free port; sets ${4}PID and ${4}URL (the
# prefix $4 is E or W) and waits until it is healthy.
start_serving() {
	port=$("$DRIVER" freeport) || return 1
	"$1" serve --data "$2" --listen "127.0.0.1:$port" 2>>"$3" &
	pid=$!
	eval "${4}PID=$pid ${4}URL=http://127.0.0.1:$port"
	wait_health "http://127.0.0.1:$port" "$pid"
}

start_exchange() { start_serving "$PARLEYD" "$T/ex" "$T/parleyd.log" E; }

start_witness() { start_serving "$WITNESS" "$T/w" "$T/witness.log" W; }

# Registers one more party (the exchange stopped), so that the log grows.
grow() {
	stop "$EPID" TERM
	EPID=
	"$DRIVER" ident "$T/ids" "$1" >/dev/null &&
		"$PARLEYD" party add "$1" --data "$T/ex" --identity "$T/ids" >/dev/null 2>>"$T/parleyd.log" &&
		start_exchange
}

# post BODYFILE: posts to add-checkpoint; status in $T/status, body in $T/resp, type in $T/ctype.
post() {
	curl -s -o "$T/resp" -w '%{http_code} %{content_type}\n' --data-binary @"$1" \
		-H 'Content-Type: text/plain' "$WURL/add-checkpoint" >"$T/meta"
	cut -d' ' -f1 <"$T/meta" >"$T/status"
	cut -d' ' -f2- <"$T/meta" >"$T/ctype"
}
differs() {
	! cmp -s "$1" "$2"
}
status_is() {
	[ "$(cat "$T/status")" = "$1" ]
}

# body OLD PROOF-OLD CHECKPOINT-FILE > file: an add-checkpoint body with the exchange's proof.
body() {
	printf 'old %s\n' "$1"
	if [ "$2" != 0 ]; then
		curl -s -f "$EURL/consistency?old=$2&new=$(sed -n 2p "$3")"
	fi
	printf '\n'
	cat "$3"
}

# The cosigned note verifies with the witness key (and the exchange's).
cosigned_verifies() {
	cat "$1" "$T/resp" >"$T/cosigned"
	"$PARLEY" note verify --key "$(cat "$T/w/witness.vkey")" <"$T/cosigned" >/dev/null 2>&1 &&
		"$PARLEY" note verify --key "$(cat "$T/ex.vkey")" <"$T/cosigned" >/dev/null 2>&1
}

mkdir -p "$T/ids"
"$PARLEYD" init --origin hotline.example --data "$T/ex" >"$T/ex.vkey" 2>"$T/init.err" || {
	cat "$T/init.err"
	exit 1
}
for p in rok-mnd kpa; do
	"$DRIVER" ident "$T/ids" "$p" >/dev/null
	"$PARLEYD" party add "$p" --data "$T/ex" --identity "$T/ids" >/dev/null 2>&1
done

expect 2 "init without --name is a usage error" "$WITNESS" init --data "$T/w"
expect 0 "init makes a witness" "$WITNESS" init --name witness.example --data "$T/w"
ok "init prints the verifier key it wrote" grep -q -F -x -f "$T/out" "$T/w/witness.vkey"
ok "the key is type 0x04 (cosignature), named witness.example" \
	grep -q '^witness\.example+[0-9a-f]\{8\}+B' "$T/w/witness.vkey"
ok "the signer key is mode 0600" [ "$(ls -l "$T/w/witness.key" | cut -c1-10)" = "-rw-------" ]
expect 3 "init again is refused" "$WITNESS" init --name witness.example --data "$T/w"
expect 2 "log add refuses a cosignature key as a log key" \
	"$WITNESS" log add hotline.example --vkey "$T/w/witness.vkey" --data "$T/w"
expect 0 "log add lists the exchange's key" \
	"$WITNESS" log add hotline.example --vkey "$T/ex.vkey" --data "$T/w"
expect 3 "log add of the same key again is refused" \
	"$WITNESS" log add hotline.example --vkey "$T/ex.vkey" --data "$T/w"
expect 0 "log list" "$WITNESS" log list --data "$T/w"
ok "log list shows the log at size 0" grep -q '^hotline.example size 0 ' "$T/out"

ok "parleyd starts" start_exchange
ok "parley-witness starts" start_witness

curl -s -f "$EURL/checkpoint" >"$T/cp1"
N1=$(sed -n 2p "$T/cp1")
body 0 0 "$T/cp1" >"$T/b1"
post "$T/b1"
ok "first checkpoint (size $N1, old 0): 200" status_is 200
ok "the answer is one cosignature line by witness.example" \
	[ "$(grep -c '^— witness\.example ' "$T/resp")" = 1 ] && [ "$(wc -l <"$T/resp")" = 1 ]
ok "the cosignature verifies on the checkpoint" cosigned_verifies "$T/cp1"
body "$N1" 0 "$T/cp1" >"$T/b1again"
post "$T/b1again"
ok "the same checkpoint again, from its own size: 200" status_is 200

ok "the exchange grows" grow us-wh
curl -s -f "$EURL/checkpoint" >"$T/cp2"
N2=$(sed -n 2p "$T/cp2")
ok "the log grew ($N1 -> $N2)" [ "$N2" -gt "$N1" ]

body 0 0 "$T/cp2" >"$T/b"
post "$T/b"
ok "old 0 after a cosigned size: 409" status_is 409
ok "409 is text/x.tlog.size" grep -q '^text/x.tlog.size' "$T/ctype"
ok "409 carries the known size $N1" [ "$(cat "$T/resp")" = "$N1" ]

# A wrong proof: the proof from 1 presented as the proof from N1.
body "$N1" 1 "$T/cp2" >"$T/b"
post "$T/b"
ok "a proof that does not hold: 422" status_is 422

body "$N1" "$N1" "$T/cp2" >"$T/b2"
post "$T/b2"
ok "consistent checkpoint from the known size: 200" status_is 200
ok "its cosignature verifies" cosigned_verifies "$T/cp2"

# Rollback: the older checkpoint presented from the newer size (400) and from its own (409).
body "$N2" 0 "$T/cp1" >"$T/b"
post "$T/b"
ok "rollback, old above the size: 400" status_is 400
body "$N1" 0 "$T/cp1" >"$T/b"
post "$T/b"
ok "rollback, old at the smaller size: 409" status_is 409

# The checkpoint's signature altered: 403. Another origin: 404.
# Flip one base64 character of the log's signature line.
LC_ALL=C awk '/^— hotline\.example / { i = length($0) - 20; c = substr($0, i, 1);
	$0 = substr($0, 1, i - 1) (c == "A" ? "B" : "A") substr($0, i + 1) } { print }' \
	"$T/b2" >"$T/b"
ok "(the altered body differs from the good one)" differs "$T/b" "$T/b2"
post "$T/b"
ok "a bad log signature: 403" status_is 403
sed 's/^hotline\.example$/other.example/' "$T/b2" >"$T/b"
post "$T/b"
ok "an unknown origin: 404" status_is 404
printf 'old x\n\n' >"$T/b"
post "$T/b"
ok "a malformed body: 400" status_is 400
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big"
post "$T/big"
ok "a body over the limit: 413" status_is 413
ok "GET /add-checkpoint: 405" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$WURL/add-checkpoint")" = 405 ]
ok "an unknown path: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "$WURL/nope")" = 404 ]

# kill -9, restart: the state is what was answered.
stop "$WPID" KILL
WPID=
ok "parley-witness restarts after kill -9" start_witness
post "$T/b1"
ok "after the restart, old 0 is still 409" status_is 409
ok "with the size cosigned last ($N2)" [ "$(cat "$T/resp")" = "$N2" ]
expect 0 "log list after the restart" "$WITNESS" log list --data "$T/w"
ok "log list shows size $N2" grep -q "^hotline.example size $N2 " "$T/out"

# Concurrent submissions of the same step: each answer is 200 or 409, and the state moves once.
ok "the exchange grows again" grow us-nsc
curl -s -f "$EURL/checkpoint" >"$T/cp3"
N3=$(sed -n 2p "$T/cp3")
body "$N2" "$N2" "$T/cp3" >"$T/b3"
pids=
for i in 1 2 3 4 5 6; do
	curl -s -m 20 -o /dev/null -w '%{http_code}\n' --data-binary @"$T/b3" \
		"$WURL/add-checkpoint" >"$T/par.$i" &
	pids="$pids $!"
done
# shellcheck disable=SC2086 # one PID per word
wait $pids
ok "six racing submissions all answered 200 or 409" \
	[ "$(cat "$T"/par.* | grep -c -e '^200$' -e '^409$')" = 6 ]
ok "exactly one of them was cosigned" [ "$(cat "$T"/par.* | grep -c '^200$')" = 1 ]
expect 0 "log list" "$WITNESS" log list --data "$T/w"
ok "the state is $N3" grep -q "^hotline.example size $N3 " "$T/out"

stop "$WPID" TERM
ok "parley-witness stops on SIGTERM" grep -q 'msg="stopping"' "$T/witness.log"
WPID=
finish

#!/bin/sh
# Operator actions while the exchange serves: kpa's agent streams its inbox the whole time;
# the operator registers us-wh with `parleyd party add` (the command reaches the running
# parleyd through its control socket), us-wh writes to kpa at once; a checked line is added
# to parleyd.conf and SIGHUP makes the exchange check it, then a witness to cosign; a reload
# from a file that does not parse, and one that changes the listen address, are refused with
# the reason logged and the running configuration kept; the agent never lost its stream and received everything;
# the party commands keep their offline messages and exit codes; a user other than the
# exchange's cannot use the socket (when the test may switch users).
# shellcheck disable=SC2016 # the single-quoted sh -c programs expand their own arguments
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"

SOCK=$DATA/parleyd.sock
WITNESS=$(abspath "$4")

# parleyd's listen address lives in parleyd.conf here, so that a reload may try to change it.
LISTEN_IN_CONF=1

# The number of lines of the server's log holding the fixed string $1.
log_count() {
	grep -c -F -e "$1" "$T/parleyd.log"
}

# Sends SIGHUP and waits (bounded) for the reload's outcome: the log gains a line with $1.
reload_expect() {
	before=$(log_count "$1")
	kill -HUP "$PID" || return 1
	wait_for 100 sh -c '[ "$(grep -c -F -e "$1" "$2")" -gt "$3" ]' sh "$1" "$T/parleyd.log" \
		"$before"
}

# The first 16 hex digits of the id a submitting verb printed.
short_id() {
	last_id | cut -c1-16
}

ok "an exchange with unc, kpa and rok-mnd" setup_exchange unc kpa rok-mnd
expect 0 "us-wh has keys but is not registered" \
	"$PARLEY" keygen --party us-wh --exchange "$ORIGIN" --out "$IDS"
ok "parleyd serves, its listen address in parleyd.conf" start_server
ok "the control socket is in the data directory" [ -S "$SOCK" ]
ok "it is the exchange's user's alone (mode 0600)" \
	[ "$(stat -c %a "$SOCK")" = 600 ] && [ "$(stat -c %u "$SOCK")" = "$(id -u)" ]
ok "a profile for each party" make_profiles unc kpa rok-mnd

"$PARLEY" agent --profile "$T/p/kpa" >"$T/kpa.log" 2>&1 &
KPA_AGENT=$!
BG="$BG $KPA_AGENT"
echo "before anything changes" >"$T/body"
expect 0 "rok-mnd writes to kpa" as rok-mnd send --to kpa --class message --body-file "$T/body"
FIRST=$(short_id)
ok "kpa's agent, streaming its inbox, receives it" wait_for 100 holds "$T/kpa.log" "$FIRST"

# --- party commands while serving --------------------------------------------------------------
expect 0 "parleyd party add us-wh while the exchange serves" \
	"$PARLEYD" party add us-wh --data "$DATA" --identity "$IDS"
ok "it prints the registration as offline" printed "registered us-wh index "
ok "the running parleyd logged the command" holds "$T/parleyd.log" 'command="party add"'
ok "a profile for us-wh" make_profiles us-wh
echo "from the new member" >"$T/body"
expect 0 "us-wh, registered a moment ago, writes to kpa" \
	as us-wh send --to kpa --class message --body-file "$T/body"
SECOND=$(short_id)
ok "kpa's agent receives it" wait_for 100 holds "$T/kpa.log" "$SECOND"
expect 3 "adding us-wh again is refused with the offline exit code" \
	"$PARLEYD" party add us-wh --data "$DATA" --identity "$IDS"
ok "and the offline message" said "parleyd: us-wh: already exists"
expect 2 "a malformed party command is a usage error" \
	"$PARLEYD" party frobnicate us-wh --data "$DATA"
ok "with the usage on stderr" said "usage: parleyd init"
cd "$T" || exit 99
expect 0 "a relative --identity path means the operator's directory, not the server's" \
	"$PARLEYD" party revoke rok-mnd --data "$DATA" --identity ids
ok "rok-mnd is revoked" printed "revoked rok-mnd index "
cd - >/dev/null || exit 99
expect 3 "rok-mnd's records are refused from then on" \
	as rok-mnd send --to kpa --class message --body-file "$T/body"

# --- SIGHUP: a new checked line ---------------------------------------------------------------
ok "no line is checked yet" lacks "$T/kpa.log" "signed answer"
cp "$T/parleyd.conf" "$T/running.conf"
echo 'line = unc-kpa unc kpa every 2s window 2s' >>"$T/parleyd.conf"
ok "SIGHUP with a new line reloads" reload_expect 'msg="configuration reloaded" lines=1'
ok "the line's checks start: kpa's agent answers one" \
	wait_for 100 holds "$T/kpa.log" "signed answer"
ok "parleyd still runs" kill -0 "$PID"

# --- SIGHUP: a witness ------------------------------------------------------------------------
ok "a witness that follows the log" sh -c '"$1" init --name witness.example --data "$2" \
	>/dev/null && "$1" log add "$3" --vkey "$4" --data "$2" >/dev/null' sh "$WITNESS" \
	"$T/w" "$ORIGIN" "$DATA/log.vkey"
WPORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
"$WITNESS" serve --data "$T/w" --listen "127.0.0.1:$WPORT" 2>>"$T/witness.log" &
WPID=$!
BG="$BG $WPID"
ok "parley-witness serves" wait_health "http://127.0.0.1:$WPORT" "$WPID"
ok "no checkpoint is cosigned yet" sh -c '! curl -s -f "$1/checkpoint" | grep -q "^— witness"' \
	sh "$URL"
printf 'witness_interval_ms = 200\nwitness = http://127.0.0.1:%s %s\n' "$WPORT" \
	"$(cat "$T/w/witness.vkey")" >>"$T/parleyd.conf"
ok "SIGHUP with a witness reloads" reload_expect 'lines=1 auditors=0 witnesses=1'
ok "the witness cosigns the running exchange's checkpoints" \
	wait_for 100 sh -c 'curl -s -f "$1/checkpoint" | grep -q "^— witness.example "' sh "$URL"

sed -i 's/^poll_timeout = .*/poll_timeout = 3/' "$T/parleyd.conf"
echo 'rate = 500' >>"$T/parleyd.conf"
ok "a change of the request limits (poll_timeout, rate) is taken live" \
	reload_expect 'msg="configuration reloaded"'
ok "that reload was not refused" [ "$(log_count "not reloaded")" = 0 ]

# --- refused reloads keep the running configuration -----------------------------------------
cp "$T/parleyd.conf" "$T/good.conf"
echo 'no_such_key = 1' >>"$T/parleyd.conf"
ok "a reload from a file that does not parse is refused" \
	reload_expect 'msg="configuration not reloaded; the running one stays"'
ok "the log says why, with the line" holds "$T/parleyd.log" "unknown key: no_such_key"
sed "s/^listen = .*/listen = 127.0.0.1:1/" "$T/good.conf" >"$T/parleyd.conf"
ok "a change of the listen address is refused live" reload_expect "key=listen"
ok "the log says it needs a restart" holds "$T/parleyd.log" "restart parleyd to apply it"
ANSWERS=$(grep -c "signed answer" "$T/kpa.log")
ok "the line is still checked after the refused reloads" \
	wait_for 100 sh -c '[ "$(grep -c "signed answer" "$1")" -gt "$2" ]' sh "$T/kpa.log" \
	"$ANSWERS"
expect 0 "parleyd still answers on its old address" "$PARLEY" line availability unc-kpa \
	--profile "$T/p/unc"
cp "$T/good.conf" "$T/parleyd.conf"

# --- nothing dropped, nothing lost -------------------------------------------------------------
echo "after the changes" >"$T/body"
expect 0 "unc writes to kpa after it all" as unc send --to kpa --class message \
	--body-file "$T/body"
THIRD=$(short_id)
ok "kpa's agent receives it" wait_for 100 holds "$T/kpa.log" "$THIRD"
ok "kpa's agent is the one started first" kill -0 "$KPA_AGENT"
ok "it never lost its stream (no retry, no reconnection)" \
	sh -c '! grep -q -e "retrying in" -e "reconnected to" "$1"' sh "$T/kpa.log"

# --- only the exchange's user ------------------------------------------------------------------
NOBODY=65534
if [ "$(id -u)" = 0 ] && setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups true \
	2>/dev/null; then
	# Let the other user reach the socket: only the server's own check stands in the way.
	chmod 0711 "$T" "$DATA"
	chmod 0666 "$SOCK"
	expect 3 "another user's party command is refused by the server" \
		setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
		"$PARLEYD" party revoke kpa --data "$DATA"
	ok "it says only the exchange's user may" said "only the exchange's own user (or root)"
	ok "the server logged the refusal with the uid" \
		holds "$T/parleyd.log" "refused: not the exchange's user\" uid=$NOBODY"
	chmod 0600 "$SOCK"
	chmod 0700 "$T" "$DATA"
else
	report ok "another user's party command is refused # SKIP not root, or cannot switch users"
fi

ok "parleyd stops on SIGTERM" stop_server
ok "it exited 0" [ "$STATUS" = 0 ]
ok "the control socket is gone" [ ! -e "$SOCK" ]
expect 0 "offline again, party commands open the store themselves" \
	"$PARLEYD" party revoke us-wh --data "$DATA" --identity "$IDS"
ok "parleyd serves again" start_server
kill -KILL "$PID"
wait "$PID" 2>/dev/null
PID=
ok "a parleyd that died (SIGKILL) left its socket behind" [ -S "$SOCK" ]
expect 3 "a party command then runs offline, with the offline answer" \
	"$PARLEYD" party revoke us-wh --data "$DATA" --identity "$IDS"
ok "it says the party is no active one" said "parleyd: us-wh: not found"
ok "the next parleyd replaces the stale socket" start_server
expect 3 "and answers on it" "$PARLEYD" party revoke us-wh --data "$DATA" --identity "$IDS"
ok "the running parleyd answered" holds "$T/parleyd.log" 'command="party revoke"'
ok "parleyd stops again" stop_server
expect 0 "the store holds together" "$PARLEYD" verify --data "$DATA"
finish

#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts, and shell code that must stay unexpanded
# parley agent --exec: kpa's agent tells somebody. A proposal from rok-mnd reaches kpa: the
# hook runs with the record's kind, id, author and thread in its environment (never the
# content, unless --exec-plaintext, and then only on its standard input); a statement whose
# public body is shell code reaches the hook as text, never as a command; the proposal's
# deadline is near and kpa has not decided, so the agent warns once and runs the hook, but
# not for a letter kpa already refused; a hook that fails or hangs is reported (a hanging one
# killed at --exec-timeout) and the agent goes on; the streaming agent runs the hook as
# records arrive; bad options.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"

ok "an exchange with rok-mnd, unc and kpa" setup_exchange rok-mnd unc kpa
ok "parleyd serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa

# The hook: writes its PARLEY_ variables, and its standard input, to files named after the
# event and the record. The directory reaches it through the agent's environment.
HOOKS=$T/hooks
mkdir "$HOOKS"
cat >"$T/hook.sh" <<'EOF'
#!/bin/sh
f="$HOOKS/$PARLEY_EVENT-$PARLEY_KIND-$PARLEY_ID"
env | grep '^PARLEY_' | sort >"$f.env"
cat >"$f.in"
EOF
chmod +x "$T/hook.sh"
export HOOKS

# The file of the hook run for event $1 (record, deadline), kind $2, record id $3.
hook_env() {
	echo "$HOOKS/$1-$2-$3.env"
}
# The id of the record of kind $1 about thread $2 that the hook was run for.
hook_id_for() {
	grep -l -x "PARLEY_THREAD=$2" "$HOOKS"/record-"$1"-*.env 2>/dev/null | head -n 1 |
		sed -e "s#^$HOOKS/record-$1-##" -e 's#\.env$##'
}

SECRET="Proposal: talks at Panmunjom on the 14th, delegation of five"
echo "$SECRET" >"$T/body"
as rok-mnd send --to kpa --class proposal --deadline +30m --body-file "$T/body"
PROP=$(last_id)
as rok-mnd send --to kpa --class letter --deadline +30m --body-file "$T/body"
LETTER=$(last_id)
as kpa refuse "$LETTER" --reason "Not through this channel"
ok "kpa refused the letter before its agent ran" [ -s "$T/out" ]
# A public statement whose body is shell code: it must reach the hook as text.
printf '%s\n' '$(touch '"$T"'/pwned); `touch '"$T"'/pwned2`; echo x > '"$T"'/pwned3' |
	"$PARLEY" statement --cites "$PROP" --body-file - --profile "$T/p/rok-mnd" >"$T/out" 2>&1
STATEMENT=$(last_id)

# --- --once with a hook: the records, the deadline warning ----------------------------------
expect 0 "agent --once as kpa with --exec and --warn-before 2h" \
	"$PARLEY" agent --once --exec "$T/hook.sh" --warn-before 2h --profile "$T/p/kpa"
AVAIL=$(hook_id_for available "$PROP")
ok "the hook ran for the proposal made available to kpa" [ -n "$AVAIL" ]
E=$(hook_env record available "$AVAIL")
ok "PARLEY_EVENT=record" holds "$E" "PARLEY_EVENT=record"
ok "PARLEY_KIND=available" holds "$E" "PARLEY_KIND=available"
ok "PARLEY_ID is the record's full id" grep -q -x "PARLEY_ID=[0-9a-f]\{64\}" "$E"
ok "PARLEY_AUTHOR=exchange" holds "$E" "PARLEY_AUTHOR=exchange"
ok "PARLEY_THREAD is the proposal" holds "$E" "PARLEY_THREAD=$PROP"
ok "PARLEY_PARTY=kpa" holds "$E" "PARLEY_PARTY=kpa"
ok "PARLEY_INDEX and PARLEY_TIME are set" \
	sh -c 'grep -q "^PARLEY_INDEX=[0-9]" "$1" && grep -q "^PARLEY_TIME=20" "$1"' sh "$E"
ok "the agent received the proposal before the hook ran" printed "signed receive"
ok "the content is nowhere in the hook's environment" \
	sh -c '! grep -r -F -q -e "Panmunjom" "$1"' sh "$HOOKS"
ok "nor on its standard input" sh -c '! cat "$1"/*.in | grep -q .' sh "$HOOKS"
ok "the hook ran for the statement too" [ -s "$(hook_env record statement "$STATEMENT")" ]
ok "its shell code reached the hook as text" \
	holds "$(hook_env record statement "$STATEMENT")" 'PARLEY_SUMMARY=citing '
ok "the shell code itself is in PARLEY_SUMMARY" \
	holds "$(hook_env record statement "$STATEMENT")" '$(touch '
ok "its thread is the proposal it cites" \
	holds "$(hook_env record statement "$STATEMENT")" "PARLEY_THREAD=$PROP"
ok "and ran nowhere" sh -c '[ ! -e "$1/pwned" ] && [ ! -e "$1/pwned2" ] && [ ! -e "$1/pwned3" ]' \
	sh "$T"
ok "no hook for kpa's own refuse" sh -c '! grep -q -x "PARLEY_AUTHOR=kpa" "$1"/*.env' sh "$HOOKS"

ok "the agent warns that the proposal's deadline is near" \
	printed "deadline near: the proposal $(echo "$PROP" | cut -c1-16) from rok-mnd is due at"
ok "and that kpa has not decided" printed "and kpa has neither accepted nor refused it"
D=$(hook_env deadline send "$PROP")
ok "the hook ran for the warning" [ -s "$D" ]
ok "PARLEY_EVENT=deadline" holds "$D" "PARLEY_EVENT=deadline"
ok "PARLEY_AUTHOR=rok-mnd" holds "$D" "PARLEY_AUTHOR=rok-mnd"
ok "PARLEY_ROLE=recipient" holds "$D" "PARLEY_ROLE=recipient"
ok "PARLEY_DEADLINE is the proposal's" grep -q "^PARLEY_DEADLINE=20..-..-..T..:..:..Z$" "$D"
ok "no warning for the letter kpa refused" lacks "$T/out" "letter $(echo "$LETTER" | cut -c1-16)"
ok "nor a hook run" [ ! -e "$(hook_env deadline send "$LETTER")" ]

# --- --exec-plaintext: the content on the hook's standard input, only when asked -----------
as rok-mnd send --to kpa --class message --body-file "$T/body"
MSG=$(last_id)
expect 0 "agent --once as kpa with --exec-plaintext" \
	"$PARLEY" agent --once --exec "$T/hook.sh" --exec-plaintext --warn-before 0s \
	--profile "$T/p/kpa"
AV2=$(hook_id_for available "$MSG")
ok "the hook ran for the message" [ -n "$AV2" ]
ok "its standard input is the opened content" \
	cmp -s "$HOOKS/record-available-$AV2.in" "$T/body"
ok "its environment still holds no content" \
	sh -c '! grep -F -q -e "Panmunjom" "$1"' sh "$(hook_env record available "$AV2")"
ok "with --warn-before 0s, no warning" lacks "$T/out" "deadline near"

# --- hooks that fail or hang never stop the agent --------------------------------------------
as rok-mnd send --to kpa --class message --body-file "$T/body"
as rok-mnd send --to kpa --class message --body-file "$T/body"
expect 0 "agent --once with a hook that fails" \
	"$PARLEY" agent --once --exec 'exit 3' --profile "$T/p/kpa"
ok "it reports the failure" printed "hook: failed with exit status 3"
ok "and went on: both messages received" \
	[ "$(grep -c "signed receive" "$T/out")" -eq 2 ]

as rok-mnd send --to kpa --class message --body-file "$T/body"
as rok-mnd send --to kpa --class message --body-file "$T/body"
START=$(date +%s)
expect 0 "agent --once with a hook that hangs, --exec-timeout 1" \
	"$PARLEY" agent --once --exec 'echo $$ >>"$HOOKS/hung.pids"; exec sleep 60' \
	--exec-timeout 1 --profile "$T/p/kpa"
END=$(date +%s)
ok "it kills the hook after 1 s and says so" printed "hook: still running after 1 s: killed"
ok "once per record, and went on: both messages received" \
	[ "$(grep -c "signed receive" "$T/out")" -eq 2 ]
ok "within a bounded time (under 20 s)" [ $((END - START)) -lt 20 ]
ok "the hung hooks are gone" \
	sh -c 'for p in $(cat "$1"); do ! kill -0 "$p" 2>/dev/null || exit 1; done' \
	sh "$HOOKS/hung.pids"

# --- the streaming agent ---------------------------------------------------------------------
"$PARLEY" agent --exec "$T/hook.sh" --profile "$T/p/kpa" >"$T/kpa.log" 2>&1 &
AGENT=$!
BG="$BG $AGENT"
ok "the streaming agent starts" wait_for 50 grep -q "agent for kpa" "$T/kpa.log"
as rok-mnd send --to kpa --class proposal --body-file "$T/body"
LIVE=$(last_id)
ok "the hook runs for the new proposal within 10 s" \
	wait_for 100 sh -c 'grep -q -x "PARLEY_THREAD=$2" "$1"/record-available-*.env' \
	sh "$HOOKS" "$LIVE"
kill -TERM "$AGENT"
ok "SIGTERM: the agent exits within 5 s" wait_for 50 gone "$AGENT"
wait "$AGENT"
ok "SIGTERM: exit status 0" [ $? -eq 0 ]
BG=

# --- usage -------------------------------------------------------------------------------------
expect 2 "--exec with an empty command" "$PARLEY" agent --once --exec '' --profile "$T/p/kpa"
expect 2 "--exec-plaintext without --exec" "$PARLEY" agent --once --exec-plaintext \
	--profile "$T/p/kpa"
expect 2 "--exec-timeout 0" "$PARLEY" agent --once --exec true --exec-timeout 0 \
	--profile "$T/p/kpa"
expect 2 "--exec-timeout above an hour" "$PARLEY" agent --once --exec true \
	--exec-timeout 3601 --profile "$T/p/kpa"
expect 2 "--warn-before not a duration" "$PARLEY" agent --once --warn-before 1y \
	--profile "$T/p/kpa"
ok "it says what a duration is" said "not a duration such as 30m, 2h or 1d"
expect 2 "--warn-before above 30 days" "$PARLEY" agent --once --warn-before 31d \
	--profile "$T/p/kpa"

finish

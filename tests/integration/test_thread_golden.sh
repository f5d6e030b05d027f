#!/bin/sh
# parley thread: golden timelines (times and ids normalised) of a send declined by its
# intermediary, a letter conveyed, accepted and answered, a letter refused, a proposal that
# expires and is answered in public, and a consultation, each as one of its parties sees it;
# a member that is no party to a thread is told there is no such record; the JSON form; bad
# arguments.
# Run with UPDATE_GOLDEN=1 to rewrite the golden files from what the tool prints.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"
GOLDEN=$4

ok "an exchange with rok-mnd, unc, kpa and dprk" setup_exchange rok-mnd unc kpa dprk
ok "parleyd serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa dprk

# Times and ids differ from run to run; log indexes and everything else do not.
normalise() {
	sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g' \
		-e 's/[0-9a-f]{64}/<id>/g' -e 's/\b[0-9a-f]{8}\b/<short>/g'
}

# Compares the normalised output of `parley thread` ($2...) with the golden file $1.
golden() {
	name=$1
	shift
	"$PARLEY" thread "$@" >"$T/thread.raw" 2>"$T/err"
	rc=$?
	normalise <"$T/thread.raw" >"$T/thread.txt"
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$T/thread.txt" "$GOLDEN/$name"
	fi
	if [ "$rc" -eq 0 ] && cmp -s "$T/thread.txt" "$GOLDEN/$name"; then
		report ok "thread: $name"
	else
		report fail "thread: $name (exit $rc)"
		sed 's/^/# stderr: /' "$T/err"
		diff "$GOLDEN/$name" "$T/thread.txt" | sed 's/^/# /'
	fi
}

# Acts as $1 and fails the test (with its message) when the verb fails.
must() {
	who=$1
	shift
	as "$who" "$@" || { report fail "$who: parley $1 failed"; sed 's/^/# /' "$T/err"; }
}

echo "Proposal for military talks to reset the MDL baseline." >"$T/body"

# A proposal via unc: received by unc's agent, declined, and unc's statement citing it.
must rok-mnd send --to kpa --via unc --class proposal --deadline +1h --body-file "$T/body"
DECLINED=$(last_id)
must unc agent --once
must unc decline "$DECLINED" --reason "Outside the Armistice channel's remit"
echo "We have not conveyed any messages or proposals specific to inter-Korean dialogue." |
	"$PARLEY" statement --cites "$DECLINED" --body-file - --profile "$T/p/unc" >"$T/out" 2>&1
STATEMENT=$(last_id)
golden thread_declined.txt "$DECLINED" --profile "$T/p/kpa"
# The statement's own thread names what it cites, by kind and id.
golden thread_statement.txt "$STATEMENT" --profile "$T/p/unc"

# A letter via unc: conveyed, received and accepted by kpa, who replies.
must rok-mnd send --to kpa --via unc --class letter --deadline +1h --body-file "$T/body"
CONVEYED=$(last_id)
must unc agent --once
must unc convey "$CONVEYED"
must kpa agent --once
must kpa accept "$CONVEYED"
echo "Accepted; we propose a date." >"$T/reply"
must kpa send --to rok-mnd --reply-to "$CONVEYED" --body-file "$T/reply"
must rok-mnd agent --once
golden thread_conveyed.txt "$CONVEYED" --profile "$T/p/rok-mnd"

# A letter straight to kpa, refused without being opened.
must rok-mnd send --to kpa --class letter --body-file "$T/body"
REFUSED=$(last_id)
must kpa refuse "$REFUSED" --reason "Not accepted through this channel"
golden thread_refused.txt "$REFUSED" --profile "$T/p/kpa"

# A proposal that expires undecided, answered only by a public statement.
must rok-mnd send --to kpa --class proposal --deadline +2s --body-file "$T/body"
EXPIRED=$(last_id)
must kpa agent --once
ok "the exchange records the expiry within 15 s" \
	wait_for 150 thread_holds "$EXPIRED" rok-mnd '"kind":"expire"'
# (kpa's: a member cites what it may read, and the proposal is rok-mnd's and kpa's business.)
echo "The offer is riddled with sophistries." |
	"$PARLEY" statement --cites "$EXPIRED" --body-file - --profile "$T/p/kpa" >"$T/out" 2>&1
golden thread_expired.txt "$EXPIRED" --profile "$T/p/rok-mnd"
golden thread_expired.json --json "$EXPIRED" --profile "$T/p/rok-mnd"

# A consultation and the advice it got.
echo "Draft of the proposal." | "$PARLEY" consult --with unc --deadline +1h --body-file - \
	--profile "$T/p/rok-mnd" >"$T/out" 2>&1
CONSULT=$(last_id)
must unc advise "$CONSULT" --position noted --reason "The Command takes no part in inter-Korean talks"
golden thread_consult.txt "$CONSULT" --profile "$T/p/rok-mnd"

# Need-to-know: to a member that is no party to it, the letter is no record at all.
expect 3 "thread of a letter as a member that is no party to it" "$PARLEY" thread "$REFUSED" \
	--profile "$T/p/dprk"
ok "it is told there is no such record" grep -q "not found" "$T/err"

# An id prefix resolves to the same thread.
golden thread_consult.txt "$(echo "$CONSULT" | cut -c1-12)" --profile "$T/p/rok-mnd"

# Bad arguments and unknown records.
documented thread
expect 2 "thread without an id" "$PARLEY" thread --profile "$T/p/kpa"
expect 2 "thread with two ids" "$PARLEY" thread "$CONSULT" "$REFUSED" --profile "$T/p/kpa"
expect 2 "thread with a malformed id" "$PARLEY" thread xyz --profile "$T/p/kpa"
expect 2 "thread with an unknown option" "$PARLEY" thread --frobnicate "$CONSULT"
expect 3 "thread of an unknown record" "$PARLEY" thread \
	0000000000000000000000000000000000000000000000000000000000000000 --profile "$T/p/kpa"

finish

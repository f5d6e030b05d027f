#!/bin/sh
# Need-to-know with the real parleyd (docs/api.md, "Who reads what"): a record of every kind,
# made through the parley tool, asked for by every kind of reader (its parties, a member with
# no part in it, the exchange's auditor, anyone) through every endpoint that hands out records:
# allowed is 200; not allowed is exactly the answer for a record that does not exist, status
# and body alike, and likewise for threads, thread index proofs, line pages and blobs; lists
# leave out what the reader may not read; entry bundles are the auditor's; hash tiles,
# checkpoints, statements, the directory and the index record a checkpoint ends with are
# anyone's.
# Arguments: PARLEY PARLEYD MAN DRIVER (the driver's `get` makes one signed request).
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"
DRIVER=$(abspath "$4")
READERS="rok-mnd unc kpa dprk auditor"
ZEROS=0000000000000000000000000000000000000000000000000000000000000000

# GET $2 as party $1 ("-": anyone); prints the status, the body is in $T/body.
get() {
	"$DRIVER" get "$URL" "$DATA" "$IDS" "$1" "$2" "$T/body"
}

# True when GET $2 as $1 answers 200.
reads() {
	[ "$(get "$1" "$2")" = 200 ]
}

# True when GET $2 as $1 answers 200 with a body that holds the fixed string $3.
reads_holding() {
	reads "$1" "$2" && holds "$T/body" "$3"
}

# True when GET $2 as $1 answers exactly as GET $3 (the same status and the same body), and
# that is not a success: the answer does not tell the two apart.
as_if_none() {
	s1=$(get "$1" "$2") && cp "$T/body" "$T/body.1" &&
		s2=$(get "$1" "$3") && [ "$s1" = "$s2" ] && [ "$s1" != 200 ] &&
		cmp -s "$T/body" "$T/body.1"
}

# The id of the first record of kind $2 in the JSON list answer of GET $1 as the auditor.
id_of_kind() {
	get auditor "$1" >/dev/null &&
		tr -d '\n' <"$T/body" | sed 's/},{/}\n{/g' | grep "kind $2\\\\n" |
		grep -o '"id":"[0-9a-f]*"' | head -n 1 | cut -d'"' -f4
}

# The hex SHA-256 of the blob record $1 names in its payload line, read as the auditor.
payload_of() {
	get auditor "/records/$1" >/dev/null &&
		awk '$1 == "payload" { print $2 }' "$T/body" | base64 -d | od -An -tx1 | tr -d ' \n'
}

# Acts as $1 and fails the test (with its message) when the verb fails.
must() {
	who=$1
	shift
	as "$who" "$@" || { report fail "$who: parley $1 failed"; sed 's/^/# /' "$T/err"; }
}

# Checks one row of the table: record $2 (kind $1) through /records/<id>, an id prefix, its
# proof, its thread and its thread index proof, for each of $READERS; $3 says, in their order,
# who reads it (Y or N).
row() {
	kind=$1
	id=$2
	want=$3
	[ -n "$id" ] || { report fail "$kind: no such record was made"; return; }
	pfx=$(echo "$id" | cut -c1-12)
	k=0
	for r in $READERS; do
		k=$((k + 1))
		w=$(echo "$want" | cut -c$k)
		if [ "$w" = Y ]; then
			ok "$kind, $r: /records/<id> 200" reads "$r" "/records/$id"
			ok "$kind, $r: /records/<prefix> 200" reads "$r" "/records/$pfx"
			ok "$kind, $r: /records/<id>/proof 200" reads "$r" "/records/$id/proof"
			ok "$kind, $r: /threads/<id> 200" reads "$r" "/threads/$id"
			ok "$kind, $r: /index/<id> 200" reads "$r" "/index/$id"
		else
			ok "$kind, $r: /records/<id> as if none" as_if_none "$r" "/records/$id" \
				"/records/$ZEROS"
			ok "$kind, $r: /records/<prefix> as if none" as_if_none "$r" "/records/$pfx" \
				/records/000000000000
			ok "$kind, $r: /records/<id>/proof as if none" as_if_none "$r" \
				"/records/$id/proof" "/records/$ZEROS/proof"
			ok "$kind, $r: /threads/<id> as if none" as_if_none "$r" "/threads/$id" \
				"/threads/$ZEROS"
			ok "$kind, $r: /index/<id> as if none" as_if_none "$r" "/index/$id" \
				"/index/$ZEROS"
		fi
	done
	ok "$kind, anyone: /records/<id> needs authentication" [ "$(get - "/records/$id")" = 401 ]
}

ok "an exchange with rok-mnd, unc, kpa, dprk, gone and an auditor" \
	setup_exchange rok-mnd unc kpa dprk gone auditor
revoke_gone() {
	"$PARLEYD" party revoke gone --data "$DATA" --identity "$IDS" >"$T/revoke.out"
}
ok "gone's keys are revoked" revoke_gone
REVOKE=$(awk '{ print $NF }' "$T/revoke.out")
echo "line = unc-kpa unc kpa every 3s window 2s" >>"$T/parleyd.conf"
ok "parleyd serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa dprk auditor

# Every kind of record, each once at least (kpa's agent never answers a check).
echo "Proposal for military talks." >"$T/body.txt"
must rok-mnd send --to kpa --via unc --class proposal --deadline +1h --body-file "$T/body.txt"
SEND=$(last_id)
must unc agent --once
must unc convey "$SEND"
must kpa agent --once --no-answer
must kpa accept "$SEND"
must rok-mnd send --to kpa --via unc --class letter --body-file "$T/body.txt"
DECLINED=$(last_id)
must unc agent --once
must unc decline "$DECLINED" --reason "Outside the channel's remit"
must rok-mnd send --to kpa --class letter --body-file "$T/body.txt"
REFUSED=$(last_id)
must kpa refuse "$REFUSED" --reason "Not through this channel"
must rok-mnd send --to kpa --class proposal --deadline +2s --body-file "$T/body.txt"
EXPIRED=$(last_id)
must dprk statement --body-file "$T/body.txt"
STATEMENT=$(last_id)
must rok-mnd consult --with unc --body-file "$T/body.txt"
CONSULT=$(last_id)
must unc advise "$CONSULT" --position concur
ADVISE=$(last_id)
ok "the proposal expires within 15 s" wait_for 150 thread_holds "$EXPIRED" rok-mnd \
	'"kind":"expire"'

# The checks of unc-kpa: unc's agent answers one while it is open, kpa never does.
answered() {
	as unc agent --once && ANSWER=$(id_of_kind /lines/unc-kpa answer) && [ -n "$ANSWER" ]
}
ok "unc's agent answers a check within 15 s" wait_for 150 answered
unanswered_logged() {
	UNANSWERED=$(id_of_kind /lines/unc-kpa unanswered) && [ -n "$UNANSWERED" ]
}
ok "the exchange logs kpa's silence within 10 s" wait_for 100 unanswered_logged
CHECK=$(id_of_kind /lines/unc-kpa check)
RECEIVE=$(id_of_kind "/threads/$SEND" receive)
CONVEY=$(id_of_kind "/threads/$SEND" convey)
ACCEPT=$(id_of_kind "/threads/$SEND" accept)
AVAILABLE=$(id_of_kind "/threads/$SEND" available)
DECLINE=$(id_of_kind "/threads/$DECLINED" decline)
REFUSE=$(id_of_kind "/threads/$REFUSED" refuse)
EXPIRE=$(id_of_kind "/threads/$EXPIRED" expire)
get - /parties >/dev/null
REGISTER=$(tr -d '\n ' <"$T/body" | grep -o '"register_id":"[0-9a-f]*"' | head -n 1 |
	cut -d'"' -f4)

# The table, readers in the order rok-mnd unc kpa dprk auditor. rok-mnd sent the proposal to
# kpa via unc (conveyed and accepted), a letter via unc (declined), a letter straight to kpa
# (refused) and a proposal straight to kpa (expired), and consulted unc (who advised); the
# exchange checks the line unc-kpa (unc answered, kpa did not); dprk made a statement.
row send "$SEND" YYYNY
row available "$AVAILABLE" YYYNY
row receive "$RECEIVE" YYYNY
row convey "$CONVEY" YYYNY
row accept "$ACCEPT" YYYNY
row decline "$DECLINE" YYYNY
row refuse "$REFUSE" YNYNY
row expire "$EXPIRE" YNYNY
row statement "$STATEMENT" YYYYY
row consult "$CONSULT" YYNNY
row advise "$ADVISE" YYNNY
row check "$CHECK" NYYNY
row answer "$ANSWER" NYYNY
row unanswered "$UNANSWERED" NYYNY
row register "$REGISTER" YYYYY
row revoke "$REVOKE" YYYYY

# A thread lists what its reader may read, and only that.
ok "the refused letter's thread, as kpa, holds the refusal" \
	reads_holding kpa "/threads/$REFUSED" "$REFUSE"
ok "the proposal's thread, as unc, holds unc's convey" \
	reads_holding unc "/threads/$SEND" "$CONVEY"

# Statements and the directory are anyone's; the inbox leaves out the others' records.
ok "anyone reads the statements" reads_holding - /statements "$STATEMENT"
ok "anyone reads the directory" reads_holding - /parties "$REGISTER"
ok "dprk's inbox holds the statement" reads_holding dprk "/inbox?wait=0" "$STATEMENT"
for id in $SEND $DECLINED $REFUSED $EXPIRED $CONSULT $CHECK; do
	ok "dprk's inbox leaves out $(echo "$id" | cut -c1-8)" lacks "$T/body" "$id"
done

# A line page is its two ends' and the auditor's; to anyone else there is no such line.
for r in unc kpa auditor; do
	ok "/lines/unc-kpa, $r: 200" reads "$r" /lines/unc-kpa
done
for r in rok-mnd dprk; do
	ok "/lines/unc-kpa, $r: as if none" as_if_none "$r" /lines/unc-kpa /lines/no-such-line
done

# A blob is its uploader's and its record's readers'; to anyone else there is none.
BLOB=$(payload_of "$SEND")
ok "the proposal names its blob" [ -n "$BLOB" ]
for r in rok-mnd unc kpa auditor; do
	ok "the proposal's blob, $r: 200" reads "$r" "/payloads/$BLOB"
done
ok "the proposal's blob, dprk: as if none" as_if_none dprk "/payloads/$BLOB" "/payloads/$ZEROS"
BLOB=$(payload_of "$CONSULT")
for r in rok-mnd unc auditor; do
	ok "the draft's blob, $r: 200" reads "$r" "/payloads/$BLOB"
done
for r in kpa dprk; do
	ok "the draft's blob, $r: as if none" as_if_none "$r" "/payloads/$BLOB" "/payloads/$ZEROS"
done

# Entry bundles are the auditor's; hash tiles and checkpoints anyone's.
get - /checkpoint >/dev/null
SIZE=$(sed -n 2p "$T/body")
# The first tile, whole or as far as the log reaches.
WIDTH=
[ "${SIZE:-0}" -ge 256 ] || WIDTH=.p/$SIZE
ok "the entry bundle, auditor: 200" reads auditor "/tile/entries/000$WIDTH"
for r in rok-mnd unc kpa dprk; do
	ok "the entry bundle, $r: 403" [ "$(get "$r" "/tile/entries/000$WIDTH")" = 403 ]
	ok "it says entry bundles are the auditors'" holds "$T/body" "auditors only"
done
ok "the entry bundle, anyone: 401" [ "$(get - "/tile/entries/000$WIDTH")" = 401 ]
ok "the hash tile, anyone: 200" reads - "/tile/0/000$WIDTH"
ok "the checkpoint, anyone: 200" reads - /checkpoint
ok "a consistency proof, anyone: 200" reads - "/consistency?old=1&new=$SIZE"
ok "the index record the checkpoint ends with, anyone: 200" reads_holding - "/index?size=$SIZE" \
	"kind index"

stop_server
ok "parleyd stopped cleanly" [ "$STATUS" -eq 0 ]
finish

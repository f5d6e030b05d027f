#!/bin/sh
# Line checks (S4) with the real parleyd and agents: parleyd.conf's `line` refused when
# malformed; the exchange logs a check of unc-kpa every 3 s; unc's agent answers, kpa's runs
# with --no-answer and the exchange logs it unanswered; `parley line availability` reports it
# from verified records, over a period (--since, --until); a deadline pending at a restart is
# honoured, checks that fell due while parleyd was down are not made up but logged as missed
# by the exchange, counted apart and never as an end's silence; an unknown line, a revoked
# asker and a member that
# is no end of the line (need-to-know: as if there were no such line) are refused; a
# line taken out of parleyd.conf is still reported.
# shellcheck disable=SC2016 # the single-quoted sh -c and awk programs expand their own arguments
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"

# The availability report as party $1, JSON, into $T/avail.json (extra arguments follow).
avail_json() {
	who=$1
	shift
	"$PARLEY" line availability unc-kpa --json --profile "$T/p/$who" "$@" >"$T/avail.json" \
		2>"$T/avail.err"
}

# True when kpa has at least $1 unanswered checks in the report as unc, the other end, sees it.
kpa_unanswered_at_least() {
	"$PARLEY" line availability unc-kpa --profile "$T/p/unc" >"$T/avail.txt" \
		2>"$T/avail.err" || return 1
	# (not n nor i: wait_for counts with those)
	kpa_known=$(awk '$1 == "kpa" && $2 == "answered" { k = 1; next } /^[^ ]/ { k = 0 }
		k && /^  unanswered: / { u++ } END { print u + 0 }' "$T/avail.txt")
	[ -n "$kpa_known" ] && [ "$kpa_known" -ge "$1" ]
}

# True when the text report $1 adds up: "line L: N check(s) since D, ...", then per end
# "E answered K of N check(s) since D[ (U unanswered[, P pending])]" with the same N, K + U + P
# = N, "check" for 1 and "checks" otherwise, and U lines "  unanswered: ..." under the end.
adds_up() {
	awk '
		function word(n, w) { return n == 1 ? w == "check" : w == "checks" }
		NR == 1 { total = $3; if (!word(total, $4)) bad = 1; next }
		$2 == "answered" {
			if (end != "" && lines != u) bad = 1
			end = $1; k = $3; n = $5; u = 0; p = 0; lines = 0
			if (n != total || !word(n, $6)) bad = 1
			if (match($0, /[0-9]+ unanswered/)) u = substr($0, RSTART, RLENGTH) + 0
			if (match($0, /[0-9]+ pending/)) p = substr($0, RSTART, RLENGTH) + 0
			if (k + u + p != n) bad = 1
			ends++
			next
		}
		/^  unanswered: / { lines++ }
		END { if (end != "" && lines != u) bad = 1; exit bad || ends < 2 }
	' "$1"
}

# The RFC 3339 form of Unix time $1.
rfc3339() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

ok "an exchange with unc, kpa, rok-mnd and us-wh" setup_exchange unc kpa rok-mnd us-wh

# --- the configuration is strict ------------------------------------------------------------
cp "$T/parleyd.conf" "$T/good.conf"
printf 'line = unc-kpa unc kpa every 3s window 4s\n' >>"$T/parleyd.conf"
expect 2 "parleyd refuses a window longer than the period" \
	"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" --listen 127.0.0.1:1
ok "it names the line and the reason" \
	sh -c 'grep -q "line 3" "$1" && grep -q "window is longer than the period" "$1"' sh "$T/err"
cp "$T/good.conf" "$T/parleyd.conf"
printf 'line = unc-kpa unc kpa at 09:00 Mars/Olympus_Mons window 30m\n' >>"$T/parleyd.conf"
expect 2 "parleyd refuses a time zone the tz database does not have" \
	"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" --listen 127.0.0.1:1
ok "it names the line and the zone" \
	sh -c 'grep -q "line 3" "$1" && grep -q "unknown time zone.*Mars/Olympus_Mons" "$1"' sh \
	"$T/err"
cp "$T/good.conf" "$T/parleyd.conf"
printf 'line = unc-kpa unc kpa at 09:00 ../../etc/passwd window 30m\n' >>"$T/parleyd.conf"
expect 2 "parleyd refuses a zone name that is a path" \
	"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" --listen 127.0.0.1:1
ok "it says a time zone is expected" said "followed by a time zone"
cp "$T/good.conf" "$T/parleyd.conf"
printf 'line = unc-kpa unc kpa every 3s window 2s\nline = unc-kpa kpa unc every 5s window 1s\n' \
	>>"$T/parleyd.conf"
expect 2 "parleyd refuses a line named twice" \
	"$PARLEYD" serve --data "$DATA" --config "$T/parleyd.conf" --listen 127.0.0.1:1
ok "it says so" said "line named twice"
cp "$T/good.conf" "$T/parleyd.conf"
# A second line, checked at wall times in Seoul (KST, UTC+9), which parleyd.conf accepts.
printf 'line = unc-kpa unc kpa every 3s window 2s\n' >>"$T/parleyd.conf"
printf 'line = seoul rok-mnd us-wh at 09:00,17:00 Asia/Seoul weekdays window 30m\n' \
	>>"$T/parleyd.conf"

# --- checks, answers, unanswered -------------------------------------------------------------
ok "parleyd serves on a free port, checking unc-kpa every 3 s" start_server
ok "a profile for each party" make_profiles unc kpa rok-mnd us-wh
documented line availability
ok "parley.1 documents agent --no-answer" grep -q -e 'Fl \\-no-answer' "$MAN"

"$PARLEY" agent --profile "$T/p/unc" >"$T/unc.log" 2>&1 &
UNC_AGENT=$!
BG="$BG $UNC_AGENT"
"$PARLEY" agent --no-answer --profile "$T/p/kpa" >"$T/kpa.log" 2>&1 &
KPA_AGENT=$!
BG="$BG $KPA_AGENT"

ok "a check reaches unc's agent, which answers it" \
	wait_for 100 holds "$T/unc.log" "signed answer"
ok "the check reaches kpa's agent, which does not answer (--no-answer)" \
	wait_for 100 holds "$T/kpa.log" "not answering the check"
ok "the exchange logs kpa's silence: kpa answered 0 of 1 or more" \
	wait_for 100 kpa_unanswered_at_least 1
ok "the report says kpa answered none" grep -q "^kpa answered 0 of [1-9]" "$T/avail.txt"
ok "it lists kpa's unanswered checks" grep -q "^  unanswered: #[0-9]* .* check [0-9a-f]*" \
	"$T/avail.txt"
ok "unc answered every check whose outcome is known" \
	awk '$1 == "unc" && $2 == "answered" { f = 1; if ($0 ~ /unanswered/ || $3 < 1) exit 1 }
		END { exit !f }' "$T/avail.txt"
ok "the report adds up: each end's answered, unanswered and pending make the checks" \
	adds_up "$T/avail.txt"
ok "the header counts the same checks as each end" \
	sh -c 'n=$(awk "NR == 1 { print \$3 }" "$1"); grep -q "^kpa answered 0 of $n check" "$1"' \
	sh "$T/avail.txt"
ok "the exchange logged the check with both ends, authored by itself" \
	sh -c 'grep -q " exchange check " "$1"' sh "$T/kpa.log"

expect 0 "availability --json as unc" avail_json unc
ok "the JSON has kpa's counts" json_holds "$T/avail.json" '"end":"kpa","checks":'
ok "the JSON lists kpa's unanswered checks" json_holds "$T/avail.json" '"unanswered_checks":[{'
ok "the JSON says each check's outcome" json_holds "$T/avail.json" '"unc":"answered"'
ok "the JSON names the tree size it was verified at" json_holds "$T/avail.json" '"tree_size":'

TOMORROW=$(date -u -d tomorrow +%Y-%m-%d)
expect 0 "--since tomorrow" "$PARLEY" line availability unc-kpa --since "$TOMORROW" \
	--profile "$T/p/unc"
ok "counts no check" printed "line unc-kpa: no checks since ${TOMORROW}T00:00:00Z"
TODAY=$(date -u +%Y-%m-%d)
expect 0 "--since today" "$PARLEY" line availability unc-kpa --since "$TODAY" \
	--profile "$T/p/unc"
ok "prints per end 'answered K of N checks since' the date" \
	printed "checks since ${TODAY}T00:00:00Z"
expect 0 "--since today --until tomorrow" "$PARLEY" line availability unc-kpa \
	--since "$TODAY" --until "$TOMORROW" --profile "$T/p/unc"
ok "says the period" printed "since ${TODAY}T00:00:00Z until ${TOMORROW}T00:00:00Z"
ok "and adds up" adds_up "$T/out"
expect 0 "--until today: before every check" "$PARLEY" line availability unc-kpa \
	--until "$TODAY" --profile "$T/p/unc"
ok "counts no check" printed "line unc-kpa: no checks since 1970-01-01T00:00:00Z until ${TODAY}T00:00:00Z"
expect 2 "--until not after --since" "$PARLEY" line availability unc-kpa \
	--since "$TODAY" --until "$TODAY" --profile "$T/p/unc"
ok "it says so" said "--until must be after --since"
expect 2 "--until with a malformed date" "$PARLEY" line availability unc-kpa \
	--until 2023-04-07T00:00 --profile "$T/p/unc"
expect 2 "--since with a malformed date" "$PARLEY" line availability unc-kpa \
	--since 2023-4-7 --profile "$T/p/unc"
expect 2 "a malformed line name" "$PARLEY" line availability UNC --profile "$T/p/unc"
expect 3 "an unknown line is refused by the exchange" "$PARLEY" line availability liaison \
	--profile "$T/p/unc"
ok "with its status" said "404"

# --- a restart: the pending deadline is honoured, the missed checks are not made up ----------
BEFORE=$(grep -c "not answering the check" "$T/kpa.log")
ok "a new check reaches kpa" \
	wait_for 60 sh -c '[ "$(grep -c "not answering the check" "$1")" -gt "$2" ]' sh \
	"$T/kpa.log" "$BEFORE"
OLDPORT=$PORT
stop_server
STOPPED=$(date +%s)
ok "parleyd stopped cleanly" [ "$STATUS" -eq 0 ]
PENDING=$(grep "not answering the check" "$T/kpa.log" | tail -n 1 |
	sed 's/.*not answering the check \([0-9a-f]*\).*/\1/')
ok "revoke us-wh while parleyd is down" \
	sh -c '"$1" party revoke us-wh --data "$2" --identity "$3" >/dev/null' sh "$PARLEYD" "$DATA" "$IDS"
# Down for more than a period and a window (3 s + 2 s): at least one check falls due and its
# window closes while parleyd is down.
sleep 6
RESTARTED=$(date +%s)
ok "parleyd serves again" start_server "$OLDPORT"

# True when the last check kpa saw before the stop has an outcome for kpa in the report.
pending_decided() {
	avail_json unc || return 1
	tr -d '\n ' <"$T/avail.json" | grep -o "\"id\":\"${PENDING}[0-9a-f]*\"[^}]*}" |
		grep -q '"kpa":"unanswered"'
}
ok "the check pending at the stop is reported unanswered after the restart" \
	wait_for 100 pending_decided
DEADLINE=$(tr -d '\n ' <"$T/avail.json" |
	grep -o "\"id\":\"${PENDING}[0-9a-f]*\",\"time\":\"[^\"]*\",\"deadline\":\"[^\"]*\"" |
	sed 's/.*"deadline":"\([^"]*\)"/\1/')
ok "its deadline had not passed when parleyd stopped ($DEADLINE)" \
	[ -n "$DEADLINE" ] && expr "$DEADLINE" \> "$(rfc3339 "$STOPPED")" >/dev/null
ok "no check was logged while parleyd was down" \
	sh -c 'tr -d "\n " <"$1" | grep -o "\"time\":\"[^\"]*\"" | cut -d\" -f4 |
		awk -v a="$2" -v b="$3" "\$0 > a && \$0 < b { bad = 1 } END { exit bad }"' sh \
	"$T/avail.json" "$(rfc3339 $((STOPPED + 1)))" "$(rfc3339 $((RESTARTED - 1)))"
# The due times with no check are the exchange's: a missed each, due while it was down.
missed_dues() {
	tr -d '\n ' <"$T/avail.json" | grep -o '"missed":"exchange","due":"[^"]*"' |
		sed 's/.*"due":"\([^"]*\)"/\1/'
}
ok "the checks due while parleyd was down are logged missed by the exchange" \
	sh -c '[ -n "$(tr -d "\n " <"$1" | grep -o "\"missed\":\"exchange\"")" ]' sh "$T/avail.json"
ok "every missed fell due while parleyd was down" \
	sh -c 'for d in $1; do expr "$d" \> "$2" >/dev/null && expr "$d" \< "$3" >/dev/null ||
		exit 1; done' sh "$(missed_dues)" "$(rfc3339 "$STOPPED")" "$(rfc3339 "$RESTARTED")"
NMISSED=$(missed_dues | wc -l)
ok "the JSON counts them apart from the checks ($NMISSED)" \
	json_holds "$T/avail.json" "\"missed\":$NMISSED,"
expect 0 "availability as kpa after the outage" "$PARLEY" line availability unc-kpa \
	--profile "$T/p/kpa"
ok "the header says the missed apart" printed "and $NMISSED missed by the exchange (it was down)"
ok "each missed is listed as the exchange's" grep -q "^missed by the exchange: #[0-9]* due " "$T/out"
ok "the ends' counts still add up: the outage is no end's silence" adds_up "$T/out"
ok "kpa's unanswered checks are not the missed ones" \
	sh -c 'for d in $1; do grep "^  unanswered: " "$2" | grep -q " $d check" && exit 1; done;
		exit 0' sh "$(missed_dues)" "$T/out"
expect 0 "--until the restart: the checks before it, and the missed" "$PARLEY" line \
	availability unc-kpa --until "$(rfc3339 "$RESTARTED")" --profile "$T/p/unc" --json
ok "no check counted is at or after --until" \
	sh -c 'tr -d "\n " <"$1" | grep -o "\"time\":\"[^\"]*\"" | cut -d\" -f4 |
		awk -v u="$2" "\$0 >= u { bad = 1 } END { exit bad }"' sh "$T/out" "$(rfc3339 "$RESTARTED")"
ok "the missed are counted" json_holds "$T/out" "\"missed\":$NMISSED,"
ok "checks resume after the restart" \
	wait_for 100 sh -c 'grep -q "exchange check" "$1" && [ "$(grep -c " exchange check " "$1")" -gt "$2" ]' \
	sh "$T/kpa.log" "$BEFORE"

# --- who may ask ---------------------------------------------------------------------------
expect 3 "a revoked party may not ask" "$PARLEY" line availability unc-kpa \
	--profile "$T/p/us-wh"
ok "the exchange said 403" said "403"
expect 3 "a member that is no end of the line may not ask" "$PARLEY" line availability \
	unc-kpa --profile "$T/p/rok-mnd"
ok "the exchange said 404, as for a line it does not have" said "404"

for a in $UNC_AGENT $KPA_AGENT; do
	stop_pid "$a"
done
BG=
ok "unc's agent never refused an answer" lacks "$T/unc.log" "refused"
# (When it did, the lines say why: a comment in the test log.)
grep -F -e "refused" "$T/unc.log" | sed 's/^/# /' || true
stop_server
ok "parleyd stopped cleanly" [ "$STATUS" -eq 0 ]

# --- a line taken out of parleyd.conf is still reported --------------------------------------
cp "$T/good.conf" "$T/parleyd.conf"
ok "parleyd serves again, without the line in its configuration" start_server "$OLDPORT"
expect 0 "the line's availability is still reported" "$PARLEY" line availability unc-kpa \
	--profile "$T/p/unc"
ok "kpa still answered none of its checks" printed "kpa answered 0 of"
ok "unc's answers are still counted" printed "unc answered"
expect 3 "a line never configured is still unknown" "$PARLEY" line availability liaison \
	--profile "$T/p/unc"
ok "with its status" said "404"
stop_server
ok "parleyd stopped cleanly" [ "$STATUS" -eq 0 ]
finish

#!/bin/sh
# The chain of a line's checks with the real parleyd and agents: every check and missed of a
# line after its first refers to the one before it (`ref previous`), so a dossier of a check
# carries, with their thread index proofs, every later check of the line up to its checkpoint
# and what answered each; verified offline with the log key alone. The auditor's audit of the
# whole log judges the chain by the same rules.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"

# The number of checks of unc-kpa counted so far, as unc sees them (0 when none or no report).
checks_counted() {
	"$PARLEY" line availability unc-kpa --profile "$T/p/unc" >"$T/avail.txt" 2>"$T/avail.err" ||
		{ echo 0; return 0; }
	awk 'NR == 1 { print $3 + 0 }' "$T/avail.txt"
}

at_least_checks() {
	[ "$(checks_counted)" -ge "$1" ]
}

ok "an exchange with unc, kpa and an auditor" setup_exchange unc kpa auditor
printf 'line = unc-kpa unc kpa every 2s window 1s\n' >>"$T/parleyd.conf"
ok "parleyd serves on a free port, checking unc-kpa every 2 s" start_server
ok "a profile for each party" make_profiles unc kpa auditor

"$PARLEY" agent --profile "$T/p/unc" >"$T/unc.log" 2>&1 &
UNC_AGENT=$!
BG="$BG $UNC_AGENT"
"$PARLEY" agent --no-answer --profile "$T/p/kpa" >"$T/kpa.log" 2>&1 &
KPA_AGENT=$!
BG="$BG $KPA_AGENT"

ok "the exchange logs four checks or more" wait_for 150 at_least_checks 4
expect 0 "the report as JSON" "$PARLEY" line availability unc-kpa --json --profile "$T/p/unc"
cp "$T/out" "$T/avail.json"
FIRST=$(tr -d '\n ' <"$T/avail.json" | grep -o '"id":"[0-9a-f]\{64\}"' | head -n 1 | cut -d\" -f4)
ok "the first check's id" [ -n "$FIRST" ]

# The id and the time of the check listed $1th (from 1) in the report, as "ID TIME".
nth_check() {
	tr -d '\n ' <"$T/avail.json" | grep -o '"id":"[0-9a-f]\{64\}","time":"[^"]*"' |
		sed -n "${1}p" | sed 's/"id":"\([0-9a-f]*\)","time":"\([^"]*\)"/\1 \2/'
}
FIRST_TIME=$(nth_check 1 | cut -d' ' -f2)
SECOND=$(nth_check 2 | cut -d' ' -f1)
SECOND_TIME=$(nth_check 2 | cut -d' ' -f2)
ok "the second check's id and time" [ -n "$SECOND" ] && [ -n "$SECOND_TIME" ]

# ---- A dossier of the first check holds the line's chain from it ----
expect 0 "a dossier of the first check as unc" \
	"$PARLEY" dossier "$FIRST" -o "$T/first.json" --profile "$T/p/unc"
expect 0 "a dossier of the second check as kpa" \
	"$PARLEY" dossier "$SECOND" -o "$T/second.json" --profile "$T/p/kpa"
expect 0 "the auditor audits the whole log, chain and all" \
	"$PARLEY" log audit --profile "$T/p/auditor"
ok "the exchange stops" stop_server
unset PARLEY_PROFILE
expect 0 "the dossier verifies offline with the log key" \
	"$PARLEY" verify "$T/first.json" --log-key "$T/log.vkey"
ok "its thread holds later checks of the line (each names the one before)" \
	sh -c '[ "$(grep -c "check" "$1")" -ge 4 ]' sh "$T/out"

# ---- The offline line report: the dossier verified, the line counted from it ----
documented line verify
expect 0 "line verify: the first check's dossier, with the log key alone" \
	"$PARLEY" line verify "$T/first.json" --log-key "$T/log.vkey"
cp "$T/out" "$T/report.txt"
ok "it counts the checks since the first one" \
	sh -c 'n=$(awk "NR == 1 { print \$3 }" "$1"); [ "$n" -ge 4 ] &&
		grep -q "^line unc-kpa: $n checks since $2" "$1" &&
		grep -q "^kpa answered 0 of $n checks since" "$1"' sh "$T/report.txt" "$FIRST_TIME"
ok "in the words of line availability: kpa's silences listed" \
	grep -q "^  unanswered: #[0-9]* .* check [0-9a-f]*" "$T/report.txt"
ok "unc answered some" grep -q "^unc answered [1-9]" "$T/report.txt"
ok "it says where the chain begins" \
	printed "the chain of line unc-kpa begins at check $(echo "$FIRST" | cut -c1-16)"
expect 0 "--since the second check's time" \
	"$PARLEY" line verify "$T/first.json" --log-key "$T/log.vkey" --since "$SECOND_TIME"
ok "counts one check less" \
	sh -c 'a=$(awk "NR == 1 { print \$3 }" "$1"); b=$(awk "NR == 1 { print \$3 }" "$2");
		[ "$b" -eq $((a - 1)) ]' sh "$T/report.txt" "$T/out"
ok "the chain's start is not in that period" lacks "$T/out" "the chain of line"
expect 0 "--json" "$PARLEY" line verify "$T/first.json" --log-key "$T/log.vkey" --json
ok "the JSON has kpa's counts" json_holds "$T/out" '"end":"kpa","checks":'
expect 0 "the second check's dossier from its own time" \
	"$PARLEY" line verify "$T/second.json" --log-key "$T/log.vkey"
expect 1 "the second check's dossier does not prove the period from the first check" \
	"$PARLEY" line verify "$T/second.json" --log-key "$T/log.vkey" --since "$FIRST_TIME"
ok "it says why" said "was made after the period began"
TOMORROW=$(date -u -d tomorrow +%Y-%m-%d)
expect 1 "a period that ends after the checkpoint" \
	"$PARLEY" line verify "$T/first.json" --log-key "$T/log.vkey" --until "$TOMORROW"
ok "it says why" said "ends before the period does"
expect 2 "line verify without --log-key" "$PARLEY" line verify "$T/first.json"
ok "it says so" said "--log-key is required"
expect 2 "line verify of a file that is not a dossier" \
	"$PARLEY" line verify "$T/avail.json" --log-key "$T/log.vkey"
expect 2 "line verify with --until before --since" "$PARLEY" line verify "$T/first.json" \
	--log-key "$T/log.vkey" --since "$SECOND_TIME" --until "$FIRST_TIME"

# A later check taken out of the dossier: the thread index still lists it under the one before.
# The writer indents by one space: a thread entry is "  {", its fields, then "  }".
drop_later_check() {
	awk '
		/^ "thread": \[/ { th = 1 }
		/^ "proven": / { th = 0 }
		th && /^  \{$/ { n++; buf = ""; inent = 1 }
		inent { buf = buf $0 "\n"; if ($0 ~ /^  \},?$/) { inent = 0
			if (n > 1 && !done && buf ~ /kind check/) done = 1; else printf "%s", buf }
			next }
		{ print }
		END { exit !done }
	' "$1" | sed -e ':a' -e 'N' -e '$!ba' -e 's/},\n ],/}\n ],/' >"$2"
}
ok "a copy with one later check taken out" drop_later_check "$T/first.json" "$T/cut.json"
expect 1 "the copy is refused" "$PARLEY" verify "$T/cut.json" --log-key "$T/log.vkey"
ok "because the thread index lists the check taken out" said "the thread index lists"
expect 1 "line verify refuses the copy" \
	"$PARLEY" line verify "$T/cut.json" --log-key "$T/log.vkey"
ok "with the reason" said "does not verify"

finish

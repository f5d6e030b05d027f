#!/bin/sh
# Allies in step, against a real parleyd on 127.0.0.1: us-wh forms the coordination group
# allies-rok-us with the ROK ministries about kpa and dprk; its first letter to kpa goes out
# without consulting them (uncoordinated), its second after both concurred (coordinated), its
# third after rok-mnd objected (against objection). rok-mnd suspends its loudspeakers as a
# measure and dprk reciprocates it; the group's records stay among its members.
# shellcheck source=tests/integration/test_cli_lib.sh
. "$(dirname "$0")/test_cli_lib.sh"

ok "an exchange with the allies and the counterparts" setup_exchange rok-mnd rok-mou us-wh kpa dprk
ok "parleyd serves on a free port" start_exchange "$DATA"
MAIN=$LASTPID
not_printed() {
	! grep -F -q -e "$1" "$T/out"
}
ok "profiles for every party" make_profiles rok-mnd rok-mou us-wh kpa dprk

# The group, and who reads it.
expect 0 "us-wh forms the group" as us-wh group allies-rok-us --member rok-mnd --member rok-mou \
	--about kpa --about dprk --window 7
G=$(last_id)
expect 0 "a member reads the group record" as rok-mou show "$G"
ok "the group record names its counterparts" printed "about kpa"
ok "the group record names its window" printed "window 7"
expect 0 "a member's inbox lists the group" as rok-mnd inbox
ok "the inbox: the group, its members and counterparts" \
	printed "us-wh group allies-rok-us of rok-mnd,rok-mou,us-wh about dprk,kpa, window 7 days"
expect 0 "show --json of the group" as rok-mou show "$G" --json
ok "show --json: the window" printed '"window": 7'
ok "show --json: the counterparts" printed '"about": ['
expect 3 "a counterpart may not read it" as kpa show "$G"
ok "a counterpart: the same answer as no record" said "404"
expect 3 "a counterpart may not change it" as kpa group allies-rok-us --changes "$G" \
	--member us-wh --about dprk --window 7
ok "a change by a non-member: it may not even read the version" said "404"
expect 2 "a group without --about" as us-wh group other --member rok-mnd --window 7
expect 2 "a group with a window of 400 days" as us-wh group other --member rok-mnd --about kpa \
	--window 400
expect 2 "a consult with an empty draft" as us-wh consult --group "$G" --with kpa \
	--body-file /dev/null
echo "Draft." >"$T/draft"
expect 3 "a consult in the group of a party outside it, with a draft" as us-wh consult \
	--group "$G" --with kpa --body-file "$T/draft"
ok "a consult outside the group: refused" said "consults in a group a party not in it"

# 1. Not consulted.
echo "Chairman, I am open to letters." >"$T/letter1"
expect 0 "us-wh writes to kpa without consulting" as us-wh send --class letter --to kpa \
	--body-file "$T/letter1"
L1=$(last_id)
expect 0 "thread of the letter, judged by the group" as us-wh thread "$L1" --group "$G"
ok "the letter is uncoordinated with both ministries" \
	printed "coordination: uncoordinated with rok-mnd and rok-mou in group allies-rok-us"
expect 0 "thread --json, judged by the group" as us-wh thread "$L1" --group "$G" --json
ok "thread --json: the verdict" printed '"verdict": "uncoordinated"'
expect 0 "thread without --group: no group to judge by" as us-wh thread "$L1"
ok "thread without --group: no coordination line" not_printed "coordination:"

# 2. Consulted, both concur.
echo "Draft: a letter to the Chairman." >"$T/draft2"
expect 0 "us-wh consults the group" as us-wh consult --group "$G" --with rok-mnd --with rok-mou \
	--body-file "$T/draft2"
C1=$(last_id)
expect 0 "rok-mnd concurs" as rok-mnd advise "$C1" --position concur
expect 0 "rok-mou concurs" as rok-mou advise "$C1" --position concur
expect 0 "us-wh sends the letter it consulted on" as us-wh send --class letter --to kpa \
	--consult "$C1" --body-file "$T/letter1"
L2=$(last_id)
expect 0 "thread of the coordinated letter" as us-wh thread "$L2"
ok "the letter is coordinated, by its named consult" \
	printed "coordination: coordinated in group allies-rok-us: consult $(echo "$C1" | cut -c1-8)"
expect 0 "the recipient's thread of it" as kpa thread "$L2"
ok "the recipient learns nothing of the group" not_printed "coordination:"
expect 3 "a send may not follow another party's consult" as rok-mnd send --to kpa \
	--consult "$C1" --body-file "$T/letter1"

# A consultation of the group is read by every member, never by a counterpart.
expect 0 "us-wh consults rok-mnd alone in the group" as us-wh consult --group "$G" \
	--with rok-mnd --body-file "$T/draft2"
CP=$(last_id)
expect 0 "rok-mou, a member not consulted, reads that it was left out" as rok-mou show "$CP"
ok "rok-mou sees whom it named" printed "to rok-mnd"
expect 3 "a counterpart may not read a consultation of the group" as kpa show "$CP"
expect 0 "a consultation outside any group" as us-wh consult --with rok-mnd --body-file "$T/draft2"
expect 3 "is not the other members' to read" as rok-mou show "$(last_id)"

# 3. Consulted, rok-mnd objects, sent anyway.
expect 0 "us-wh consults again" as us-wh consult --group "$G" --with rok-mnd --with rok-mou \
	--body-file "$T/draft2"
C2=$(last_id)
expect 0 "rok-mnd objects" as rok-mnd advise "$C2" --position object --reason "Not now"
expect 0 "us-wh sends it anyway" as us-wh send --class letter --to dprk --consult "$C2" \
	--body-file "$T/letter1"
L3=$(last_id)
expect 0 "thread of the letter sent against objection" as us-wh thread "$L3"
ok "the letter went against rok-mnd's objection" \
	printed "coordination: against objection in group allies-rok-us: rok-mnd objected"

# Measures and reciprocity.
echo "The Ministry suspends its loudspeaker broadcasts along the MDL." >"$T/m1"
expect 0 "rok-mnd suspends its loudspeakers, a measure" as rok-mnd statement --measure \
	--body-file "$T/m1"
M1=$(last_id)
echo "We halt our noise broadcasts." >"$T/m2"
expect 0 "dprk reciprocates it" as dprk statement --reciprocates "$M1" --body-file "$T/m2"
M2=$(last_id)
expect 0 "the reciprocation is a measure" as dprk show "$M2"
ok "the reciprocation: class measure" printed "class measure"
ok "the reciprocation: its structured reference" printed "ref reciprocates $M1"
expect 3 "a party may not reciprocate its own measure" as rok-mnd statement --reciprocates "$M1" \
	--body-file "$T/m2"
ok "its own measure: the exchange says why" said "reciprocates its author's own measure"
expect 2 "nor reciprocate a record that is no statement" as kpa statement \
	--reciprocates "$L1" --body-file "$T/m2"
ok "no statement: says what it is" said "is a send, not a statement"
echo "A plain statement." >"$T/s1"
expect 0 "a plain statement" as kpa statement --body-file "$T/s1"
S1=$(last_id)
expect 3 "nor reciprocate a statement that is no measure" as dprk statement \
	--reciprocates "$S1" --body-file "$T/m2"
ok "no measure: the exchange says why" said "reciprocates a statement that is not a measure"

# The life of a measure, and the measures report.
expect 0 "the measures report" as kpa measures
ok "measures: rok-mnd's announced measure" grep -q "rok-mnd  measure $(echo "$M1" | cut -c1-16): announced" "$T/out"
ok "measures: dprk's reciprocates it" printed "reciprocates rok-mnd's measure $(echo "$M1" | cut -c1-16)"
ok "measures: rok-mnd's reciprocated by dprk's" printed "reciprocated by dprk's measure $(echo "$M2" | cut -c1-16)"
ok "measures: a plain statement is no measure" not_printed "$(echo "$S1" | cut -c1-16)"
echo "The broadcasts stay off for now." >"$T/m3"
expect 3 "only its author changes a measure" as dprk statement --suspends "$M1" --body-file "$T/m3"
ok "another's measure: the exchange says why" said "changes another party's measure"
expect 3 "a measure never suspended is not resumed" as rok-mnd statement --resumes "$M1" \
	--body-file "$T/m3"
expect 0 "rok-mnd suspends its measure" as rok-mnd statement --suspends "$M1" --body-file "$T/m3"
MS=$(last_id)
expect 2 "two changes at once" as rok-mnd statement --suspends "$MS" --ends "$MS" \
	--body-file "$T/m3"
expect 0 "rok-mnd ends it" as rok-mnd statement --ends "$MS" --body-file "$T/m3"
ME=$(last_id)
expect 3 "a suspend of an ended measure" as rok-mnd statement --suspends "$ME" --body-file "$T/m3"
ok "an ended measure: the exchange says why" said "changes a measure that has ended"
expect 3 "a reciprocation of an ended measure" as dprk statement --reciprocates "$ME" \
	--body-file "$T/m2"
expect 0 "the measures report, as JSON" as kpa measures --json
ok "measures --json: the state of rok-mnd's measure" printed '"state": "ended"'
ok "measures --json: its latest state" printed "\"latest\": \"$ME\""
ok "measures --json: dprk's reciprocation" printed "\"reciprocates\": \"$M1\""
expect 0 "the measures of a period before any" as kpa measures --until 2000-01-01
ok "no measures before any" printed "0 measures"
expect 0 "the thread of rok-mnd's measure" as kpa thread "$M1"
ok "the thread shows the reciprocation" printed "announced a measure in reciprocation"
ok "the thread shows the suspension" printed "suspended its measure"
ok "the thread shows the end" printed "ended its measure"

# The coordination report.
expect 0 "us-wh's coordination report" as us-wh coordination "$G"
ok "report: the letter not consulted on" grep -q "us-wh  letter $(echo "$L1" | cut -c1-16) to kpa: uncoordinated" "$T/out"
ok "report: the consultations proven complete by the thread index" \
	printed "its consultations proven complete by the thread index at log size"
ok "report: the coordinated letter" grep -q "letter $(echo "$L2" | cut -c1-16) to kpa: coordinated" "$T/out"
ok "report: the letter against objection" grep -q "letter $(echo "$L3" | cut -c1-16) to dprk: against objection" "$T/out"
ok "report: rok-mnd's suspension and end are signals too" \
	printed "measure $(echo "$MS" | cut -c1-16) to dprk: uncoordinated"
ok "report: rok-mnd's measure, not consulted on" grep -q "rok-mnd  measure $(echo "$M1" | cut -c1-16) to dprk: uncoordinated with rok-mou and us-wh" "$T/out"
ok "report: the counts" printed "1 coordinated, 4 uncoordinated, 1 against objection (as far as us-wh may read)"
ok "report: dprk's measure is not the group's" not_printed "$(echo "$M2" | cut -c1-16)"
expect 0 "the report as JSON" as us-wh coordination "$G" --json
ok "report --json: the counts" printed '"uncoordinated": 4'
ok "report --json: the missing members" printed '"rok-mou"'
expect 0 "a period before anything happened" as us-wh coordination "$G" --until 2000-01-01
ok "an empty period: no acts" printed "0 coordinated, 0 uncoordinated, 0 against objection"
expect 2 "a period that ends before it starts" as us-wh coordination "$G" --since 2030-01-02 \
	--until 2030-01-01
expect 2 "a malformed date" as us-wh coordination "$G" --since yesterday
expect 0 "rok-mou's report: what it may read" as rok-mou coordination "$G"
ok "rok-mou sees rok-mnd's public measure" \
	grep -q "rok-mnd  measure $(echo "$M1" | cut -c1-16) to dprk: uncoordinated" "$T/out"
ok "rok-mou does not see us-wh's letters, even the one it was consulted on" \
	not_printed "$(echo "$L2" | cut -c1-16)"
ok "rok-mou's report: the counts" printed "0 coordinated, 3 uncoordinated, 0 against objection (as far as rok-mou may read)"
expect 3 "a counterpart has no report of the group" as kpa coordination "$G"
expect 2 "coordination of a record that is no group" as us-wh coordination "$L1"

# A change of membership: rok-mou leaves; then rok-mnd's measure is judged against us-wh only.
expect 0 "rok-mnd changes the group" as rok-mnd group allies-rok-us --changes "$G" --member us-wh \
	--about kpa --about dprk --window 7
G2=$(last_id)
expect 3 "the same version changed twice" as us-wh group allies-rok-us --changes "$G" \
	--member rok-mnd --about kpa --window 7
ok "a fork of the group: refused" said "already changed"
expect 0 "rok-mou still reads the change that removed it" as rok-mou show "$G2"
expect 0 "rok-mnd's measure, again" as rok-mnd statement --measure --body-file "$T/m1"
M3=$(last_id)
expect 0 "the report after the change" as rok-mnd coordination "$G2"
ok "after the change: uncoordinated with us-wh alone" \
	grep -q "$(echo "$M3" | cut -c1-16) to dprk: uncoordinated with us-wh in group" "$T/out"

stop_exchange "$MAIN"
finish

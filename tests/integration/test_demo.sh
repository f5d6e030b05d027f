#!/bin/sh
# The demo (scripts/demo) end to end, so that it cannot rot: it must finish well under a
# minute, tell every scenario, pass its audit and leave nothing running.
# Arguments: the demo script and the build directory.
set -u
DEMO=$1
BUILD=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/parley-demo.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
count=0
fails=0

ok() {
	desc=$1
	shift
	count=$((count + 1))
	if "$@"; then
		echo "ok $count - $desc"
	else
		fails=$((fails + 1))
		echo "not ok $count - $desc"
	fi
}

has() {
	grep -F -q -e "$1" "$T/demo.out"
}

start=$(date +%s)
DEMO_OUT=$T/out sh "$DEMO" "$BUILD" >"$T/demo.out" 2>"$T/demo.err"
rc=$?
took=$(($(date +%s) - start))
ok "the demo exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/demo.err" "$T/demo.out"
ok "it takes well under a minute ($took s)" [ "$took" -lt 50 ]
ok "S1 (a): the consultation and the advice" has "advised on it: noted"
ok "S1 (b): unc's agent received the proposal" has "received it for relay (the sealed message reached it)"
ok "S1 (b): unc declined it" has "declined to convey it: \"Outside the Armistice channel's remit\""
ok "S1 (b'): the proposal expired, never conveyed" has "never conveyed to kpa: expired at"
ok "S2: the letter was declined by dprk-un" has "never made available to dprk-leader"
ok "S2: the reciprocal measure reciprocates the first" has "announced a measure in reciprocation"
ok "S2: the White House letter is uncoordinated with the ROK ministries" \
	has "coordination: uncoordinated with rok-mnd, rok-mou and us-nsc in group allies-rok-us"
ok "S2: the consulted letter, all concurring, is coordinated" \
	has "coordination: coordinated in group allies-rok-us: consult"
ok "S2: the coordination report counts them" \
	has "1 coordinated, 2 uncoordinated, 0 against objection (as far as us-wh may read)"
ok "S2: the measures report shows the structured reciprocation" \
	has "reciprocated by dprk's measure"
ok "S3: both proposals expired undecided" \
	[ "$(sed '/^== Dossiers/q' "$T/demo.out" |
		grep -c "recorded that it expired with no decision by kpa")" -eq 2 ]
ok "S3: the newspaper statement cites the proposal" has "riddled with sophistries"
ok "the audit holds" has "ok: every tile and the root match"
ok "keys: the operator evicted us-nsc, and the timeline says so" \
	has "evicted the party us-nsc (the operator, without its signature): \"Key lost with its device\""
ok "keys: us-nsc returned with a new key, after its previous register" \
	has "registered the party us-nsc again, after its previous register"
ok "S1 (b): the dossier proves unc never conveyed it, from the thread index" \
	has "(available to unc, received by unc, expired), none a convey or decline"
ok "S2: the dossier shows the letter declined, never received by dprk-leader" \
	has "NOT received by dprk-leader: no receive by dprk-leader among the"
ok "the dossiers are of version 2: the thread and its index proofs" \
	[ "$(grep -c "Parley dossier (parley/dossier/v2)" "$T/demo.out")" -eq 3 ]
ok "the dossiers carry the witness's cosignature" \
	[ "$(grep -c "witnesses: 1 of the 1 given cosigned it" "$T/demo.out")" -eq 3 ]
ok "the S1 (b) dossier is left in the output directory" [ -s "$T/out/s1b-never-conveyed.dossier" ]
ok "the S2 dossier's page is left in the output directory" [ -s "$T/out/s2-letter.html" ]
ok "the timelines are left in the output directory" [ -s "$T/out/timelines.txt" ]
ok "the agents' logs are left there" [ -s "$T/out/agents/unc.log" ]
all_stopped() {
	for f in "$T"/out/agents/*.log; do
		grep -q "stopped at log index" "$f" || return 1
	done
}
ok "every agent stopped cleanly" all_stopped
ok "parleyd stopped cleanly" grep -q 'event=stop .*status="success"' "$T/out/parleyd.log"
ok "parleyd's witness client had it cosigned" grep -q 'event=witness msg="cosigned"' \
	"$T/out/parleyd.log"
ok "the witness was stopped" grep -q 'event=serve msg="stopping"' "$T/out/witness.log"
echo "1..$count"
[ "$fails" -eq 0 ]

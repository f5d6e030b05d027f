#!/bin/sh
# parley dossier and parley verify against a real parleyd on 127.0.0.1: the S1(b) thread (a
# proposal via unc, received by unc's agent, never conveyed, expired) and the S2 thread (a
# letter via dprk-un, declined, cited) exported through the exchange's API as version 2
# dossiers (the thread and its index proofs), one at an earlier checkpoint (--at); verified
# offline with the exchange stopped (verdict lines, the disclosed plaintext, the HTML page,
# JSON); tampered copies (a byte of a record, a thread record left out, an index proof that
# omits an entry, a wrong disclosure, another log key) fail with status 1, garbage with
# status 2; bad arguments. A party that is no auditor exports too: a version 2 export reads
# no entry bundle. Version 1 dossiers are still read: the golden S1(b) dossier of
# tests/vectors/dossier verifies, and its tampered copies (a dropped, repeated or reordered
# window entry) fail.
# Run with UPDATE_GOLDEN=1 to rewrite the golden verify outputs from what the tool prints.
# shellcheck source=tests/integration/test_agent_lib.sh
. "$(dirname "$0")/test_agent_lib.sh"
HELPER=$(abspath "$4")
GOLDEN=$5
V1=$GOLDEN/../../vectors/dossier

# Acts as $1 and fails the test (with its message) when the verb fails.
must() {
	who=$1
	shift
	as "$who" "$@" || { report fail "$who: parley $1 failed"; sed 's/^/# /' "$T/err"; }
}

# The permission bits of a file as ls prints them, e.g. -rw-r--r--.
mode_of() {
	# shellcheck disable=SC2012 # one known file name
	ls -ld "$1" | cut -c1-10
}

# True when the stdout of the last command holds every fixed string given.
printed_all() {
	for s in "$@"; do
		printed "$s" || return 1
	done
}

# True when the last command said exactly one line on stderr, holding the fixed string $1.
said_one() {
	[ "$(wc -l <"$T/err")" -eq 1 ] && said "$1"
}

# Times, ids, key ids and hashes differ from run to run; log indexes and the rest do not.
normalise() {
	sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g' \
		-e 's/[0-9a-f]{64}/<id>/g' -e 's/\b[0-9a-f]{8}\b/<short>/g' \
		-e 's#root [A-Za-z0-9+/]{43}=#root <root>#g'
}

# Compares the normalised standard output of the last command with the golden file $1.
golden() {
	normalise <"$T/out" >"$T/golden.txt"
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$T/golden.txt" "$GOLDEN/$1"
	fi
	if cmp -s "$T/golden.txt" "$GOLDEN/$1"; then
		report ok "golden: $1"
	else
		report fail "golden: $1"
		diff "$GOLDEN/$1" "$T/golden.txt" | sed 's/^/# /'
	fi
}

# Writes to $2 a copy of dossier $1 without window entry $3 (0 is the subject), the later
# entries renumbered so that the file is still well-formed: what an exporter hiding a record
# would write. The writer indents by one space: an entry is "   {", its fields, then "   }".
drop_entry() {
	awk -v k="$3" '
		/^ "window": \{/ { inwin = 1 }
		/^ "proven": / { inwin = 0 }
		inwin && /^   \{$/ { n++; skip = (n - 1 == k); if (skip) dropped = 1 }
		inwin && dropped && !skip && /^    "index": [0-9]+,$/ {
			match($0, /[0-9]+/)
			$0 = substr($0, 1, RSTART - 1) (substr($0, RSTART, RLENGTH) - 1) ","
		}
		{ if (!skip) print }
		inwin && skip && /^   \},?$/ { skip = 0 }
	' "$1" >"$2"
}

# Writes to $2 a copy of dossier $1 without window entry $3, the later entries keeping their
# indexes: a window with a gap, what a careless exporter hiding a record would write.
gap_entry() {
	awk -v k="$3" '
		/^ "window": \{/ { inwin = 1 }
		/^ "proven": / { inwin = 0 }
		inwin && /^   \{$/ { n++; skip = (n - 1 == k) }
		{ if (!skip) print }
		inwin && skip && /^   \},?$/ { skip = 0 }
	' "$1" >"$2"
}

# Writes to $2 a copy of dossier $1 whose window entry $3 appears twice, at the same index.
dup_entry() {
	awk -v k="$3" '
		/^ "window": \{/ { inwin = 1 }
		/^ "proven": / { inwin = 0 }
		inwin && /^   \{$/ { n++; keep = (n - 1 == k); buf = "" }
		{ print }
		keep { buf = buf $0 "\n" }
		keep && /^   \},$/ { printf "%s", buf; keep = 0 }
	' "$1" >"$2"
}

# Writes to $2 a copy of version 2 dossier $1 without thread entry $3 (0 is the subject).
drop_thread_entry() {
	awk -v k="$3" '
		/^ "thread": \[/ { th = 1 }
		/^ "proven": / { th = 0 }
		th && /^  \{$/ { n++; skip = (n - 1 == k) }
		{ if (!skip) print }
		th && skip && /^  \},?$/ { skip = 0 }
	' "$1" | sed -e ':a' -e 'N' -e '$!ba' -e 's/},\n ],/}\n ],/' >"$2"
}

# The number of thread entries in version 2 dossier $1.
thread_entries() {
	awk '/^ "thread": \[/ { t = 1 } /^ "proven": / { t = 0 } t && /^  \{$/ { n++ }
		END { print n + 0 }' "$1"
}

# Writes to $2 a copy of version 2 dossier $1 whose first index proof lists one entry less.
omit_index_entry() {
	sed -E '0,/\\nentry [0-9]+ [0-9a-f]{64}/s/\\nentry [0-9]+ [0-9a-f]{64}//' "$1" >"$2"
}

# Writes to $2 a copy of dossier $1 with the indexes of its first two proven records swapped.
swap_proven_indexes() {
	awk '
		/^ "proven": / { p = 1 }
		/^ "disclosures": / { p = 0 }
		{ line[NR] = $0 }
		p && /^   "index": [0-9]+,$/ { if (!a) a = NR; else if (!b) b = NR }
		END {
			t = line[a]; line[a] = line[b]; line[b] = t
			for (i = 1; i <= NR; i++) print line[i]
		}
	' "$1" >"$2"
}

# The number of window entries in dossier $1.
entries() {
	awk '/^ "window": \{/ { w = 1 } /^ "proven": / { w = 0 } w && /^   \{$/ { n++ }
		END { print n + 0 }' "$1"
}

# Writes to $2 a copy of dossier $1 with the records of window entries $3 and $3 + 1 swapped.
swap_entries() {
	awk -v k="$3" '
		/^ "window": \{/ { w = 1 }
		/^ "proven": / { w = 0 }
		{ line[NR] = $0 }
		w && /^    "record": / { if (n == k) a = NR; if (n == k + 1) b = NR; n++ }
		END {
			t = line[a]; line[a] = line[b]; line[b] = t
			for (i = 1; i <= NR; i++) print line[i]
		}
	' "$1" >"$2"
}

# Writes to $2 a copy of dossier $1 in which the first proven record naming "party unc"
# names "party unx": one byte of a record before the window.
tamper_proven() {
	awk '/^ "proven": / { p = 1 } p && !done && sub(/party unc/, "party unx") { done = 1 }
		{ print }' "$1" >"$2"
}

# True when no temporary file of dossier $1 is left in its directory.
no_temporary() {
	for f in "$1".tmp.*; do
		[ -e "$f" ] && return 1
	done
	return 0
}

# True when files $1 and $2 differ.
differ() {
	! cmp -s "$1" "$2"
}

# Writes to $2 a copy of dossier $1 whose first disclosed plaintext differs in one character.
tamper_disclosure() {
	sed -e 's/"plaintext": "Z/"plaintext": "Y/' -e t \
		-e 's/"plaintext": "[A-Za-z0-9+\/]/"plaintext": "Z/' "$1" >"$2"
}

ok "an exchange with the parties of S1 and S2" \
	setup_exchange rok-mnd unc kpa us-wh dprk-un dprk-leader dprk
# A version 2 export reads no entry bundle and needs no auditor (kpa exports below); the
# refusals to disclose below need exporters that read others' threads: these three are the
# exchange's auditors.
echo 'auditors = rok-mnd, us-wh, dprk-un' >>"$T/parleyd.conf"
# Enough records before the threads that their windows start in the second entry bundle and
# the frontier comes from a level-1 tile.
ok "300 statements by dprk, logged directly" "$HELPER" bulk "$DATA" "$IDS" dprk 300
ok "parleyd serves on a free port" start_server
ok "a profile for each party" make_profiles rok-mnd unc kpa us-wh dprk-un dprk-leader
cp "$T/log.vkey" "$T/published.vkey"

# S1(b): the proposal via unc, received by unc's agent, never conveyed; it expires; then unc
# speaks of something else (a record of unc in the window, after its receive).
echo "Proposal: military talks to reset the baseline of the MDL." >"$T/proposal"
# The deadline leaves unc's agent time to receive it first, even on a busy machine.
must rok-mnd send --to kpa --via unc --class proposal --deadline +10s --body-file "$T/proposal"
S1B=$(last_id)
must unc agent --once
ok "the exchange records the expiry within 30 s" \
	wait_for 300 thread_holds "$S1B" rok-mnd '"kind":"expire"'
echo "The Command acts on the Armistice line only." >"$T/unc-statement"
must unc statement --body-file "$T/unc-statement"

# S2: the letter via dprk-un, declined; us-wh's statement cites it.
echo "Dear Chairman, I remain open to an exchange of letters." >"$T/letter"
must us-wh send --to dprk-leader --via dprk-un --class letter --deadline +1h \
	--body-file "$T/letter"
S2=$(last_id)
must dprk-un agent --once
must dprk-un decline "$S2" --reason "The mission does not accept this letter"
DECLINE=$(last_id)
# The checkpoint of the decline's receipt ("decline ID index N tree SIZE").
DECLINE_TREE=$(awk 'NR == 1 { print $6 }' "$T/out")
echo "The President is open to an exchange of letters." >"$T/wh-statement"
must us-wh statement --cites "$S2" --body-file "$T/wh-statement"
STATEMENT=$(last_id)

# ---- Export ----
documented dossier
expect 0 "dossier of S1(b) as rok-mnd, disclosing the proposal" \
	"$PARLEY" dossier "$S1B" --output "$T/s1b.json" --disclose "$S1B" --profile "$T/p/rok-mnd"
ok "it names the file and the subject" printed "dossier $T/s1b.json: proposal $S1B"
ok "it says it verified the dossier" printed "verified with the pinned log key hotline.example"
ok "the dossier is mode 0644" [ "$(mode_of "$T/s1b.json")" = "-rw-r--r--" ]
ok "no temporary file is left beside it" no_temporary "$T/s1b.json"
ok "the dossier is a version 2 dossier" holds "$T/s1b.json" '"version": "parley/dossier/v2"'
ok "its subject is the proposal" holds "$T/s1b.json" "\"subject\": \"$S1B\""
ok "it carries the thread: the proposal, available, received, expired" \
	[ "$(thread_entries "$T/s1b.json")" -eq 4 ]
ok "and no record of the 300 statements of dprk" lacks "$T/s1b.json" "author dprk"
ok "it says how much it holds" printed "4 thread records with their index proofs"
expect 0 "dossier of S1(b) as kpa, a recipient: no entry bundle needed, no auditor" \
	"$PARLEY" dossier "$S1B" --output "$T/s1b-kpa.json" --profile "$T/p/kpa"
ok "the same thread" [ "$(thread_entries "$T/s1b-kpa.json")" -eq 4 ]

expect 0 "dossier of S2 as us-wh by an id prefix, disclosing the letter" \
	"$PARLEY" dossier "$(echo "$S2" | cut -c1-12)" -o "$T/s2.json" --disclose "$S2" \
	--profile "$T/p/us-wh"
ok "its subject is the letter" holds "$T/s2.json" "\"subject\": \"$S2\""
expect 0 "dossier of us-wh's statement, the letter it cites before its window" \
	"$PARLEY" dossier "$STATEMENT" -o "$T/statement.json" --profile "$T/p/us-wh"
expect 0 "dossier named by the decline: the thread of the letter it acts on" \
	"$PARLEY" dossier "$DECLINE" -o "$T/s2-by-decline.json" --profile "$T/p/dprk-un"
ok "its subject is the letter too" holds "$T/s2-by-decline.json" "\"subject\": \"$S2\""
expect 0 "a second export replaces the file" \
	"$PARLEY" dossier "$S2" -o "$T/s2-by-decline.json" --profile "$T/p/dprk-un"
# The checkpoint of the batch that logged the decline (and the index record that ends it):
# the letter, made available to dprk-un, received by its agent, declined.
AT=$DECLINE_TREE
expect 0 "dossier of S2 at the earlier checkpoint of the decline (--at)" \
	"$PARLEY" dossier "$S2" -o "$T/s2-at.json" --at "$AT" --profile "$T/p/us-wh"
ok "it is up to that checkpoint" printed "up to checkpoint $AT:"
ok "it holds the thread as it stood then: no statement yet" \
	[ "$(thread_entries "$T/s2-at.json")" -eq 4 ]
expect 1 "--at a size the exchange signed no checkpoint at" \
	"$PARLEY" dossier "$S2" -o "$T/x.json" --at "$((AT - 1))" --profile "$T/p/us-wh"
ok "it says so" said "signed no checkpoint of that size"
expect 2 "--at a checkpoint that does not cover the record" \
	"$PARLEY" dossier "$S2" -o "$T/x.json" --at 1 --profile "$T/p/us-wh"
ok "it says so" said "does not cover record"

# What cannot be exported.
expect 2 "dossier without --output" "$PARLEY" dossier "$S1B" --profile "$T/p/rok-mnd"
expect 2 "dossier without an id" "$PARLEY" dossier -o "$T/x.json" --profile "$T/p/rok-mnd"
expect 2 "dossier with a malformed id" "$PARLEY" dossier xyz -o "$T/x.json" \
	--profile "$T/p/rok-mnd"
expect 3 "dossier of an unknown record" "$PARLEY" dossier \
	0000000000000000000000000000000000000000000000000000000000000000 -o "$T/x.json" \
	--profile "$T/p/rok-mnd"
expect 2 "disclosing what this party cannot read" "$PARLEY" dossier "$S1B" -o "$T/x.json" \
	--disclose "$S1B" --profile "$T/p/us-wh"
ok "it says why" said "us-wh is not one of its readers"
expect 2 "disclosing a record outside the dossier" "$PARLEY" dossier "$S2" -o "$T/x.json" \
	--disclose "$S1B" --profile "$T/p/rok-mnd"
ok "it says why" said "not in the dossier"
expect 2 "disclosing a record that seals nothing" "$PARLEY" dossier "$S2" -o "$T/x.json" \
	--disclose "$DECLINE" --profile "$T/p/us-wh"
expect 2 "dossier into a directory that does not exist" "$PARLEY" dossier "$S2" \
	-o "$T/missing/x.json" --profile "$T/p/us-wh"
ok "nothing was written for the failed exports" [ ! -e "$T/x.json" ]

# ---- Verify, offline: the exchange stopped, no profile, no state ----
ok "the exchange stops" stop_server
unset PARLEY_PROFILE
documented verify
expect 0 "verify S1(b) with the published log key" \
	"$PARLEY" verify "$T/s1b.json" --log-key "$T/published.vkey"
cp "$T/out" "$T/s1b.txt"
ok "verdict: the checkpoint and its key" printed "checkpoint: tree size "
ok "verdict: the thread index is the checkpoint's" \
	printed "the last entry of checkpoint"
ok "verdict: its proofs list every record of the thread" \
	printed "its proofs list every record that refers to the 4 records of the thread"
ok "verdict: the proposal, from rok-mnd to kpa via unc" \
	printed "from rok-mnd to kpa via unc: submitted "
ok "verdict: received by unc" printed "received by unc at "
ok "verdict: NOT conveyed, resting on the thread index" \
	printed_all "NOT conveyed: the thread index at checkpoint " \
	"lists 3 records that refer to it (available to unc, " "), none a convey or decline"
ok "verdict: NOT received by kpa" \
	printed "NOT received by kpa: no receive by kpa among the 3 records that refer to it"
ok "verdict: expired, no decision, unc never acted" \
	printed_all "(exchange, log #" "no decision by kpa; unc never conveyed or declined it"
ok "timeline: unc received it, so the expiry does not say unc never acted" \
	printed "the intermediary unc received it but never conveyed or declined it"
ok "timeline: nowhere 'never acted'" lacks "$T/out" "never acted"
ok "verdict: only the exchange vouches for time (no witness)" printed "witnesses: none given"
ok "verdict: the disclosure matches the commitment rok-mnd signed" \
	printed "matches the commitment rok-mnd signed"
ok "the disclosed plaintext is shown" printed "| Proposal: military talks to reset the baseline"
ok "no caution about the log key" lacks "$T/out" "caution: no log key"
ok "nothing on standard error" [ ! -s "$T/err" ]
golden dossier_s1b.txt

expect 0 "verify S2 with the log key text" "$PARLEY" verify "$T/s2.json" \
	--log-key "$(cat "$T/published.vkey")"
ok "verdict: declined by dprk-un, with the reason" \
	printed_all "declined by dprk-un at " "reason \"The mission does not accept this letter\""
ok "verdict: NOT received by dprk-leader" printed "NOT received by dprk-leader: "
ok "verdict: us-wh's statement cites it" printed "statement by us-wh cites it (log #"
ok "the disclosed letter is shown" printed "| Dear Chairman, I remain open"
golden dossier_s2.txt

expect 0 "verify the statement's dossier" "$PARLEY" verify "$T/statement.json" \
	--log-key "$T/published.vkey"
ok "its timeline names what the statement cites, by kind and id" \
	printed "made a public statement citing letter $(echo "$S2" | cut -c1-8)"
ok "its verdicts too, with the log index" \
	printed_all "statement $(echo "$STATEMENT" | cut -c1-8)" ", citing letter $(echo "$S2" | cut -c1-8)… (log #"
ok "it does not speak of a thread it does not name" lacks "$T/out" "this thread"
golden dossier_statement.txt

expect 0 "verify without --log-key" "$PARLEY" verify "$T/s1b.json"
ok "it warns loudly that the key came from the dossier" \
	said "WARNING: no --log-key given: the log key was taken from the dossier itself"
ok "the verdicts carry the caution" printed "caution: no log key was given"

expect 0 "verify from standard input" sh -c "\"$PARLEY\" verify - --log-key \"$T/published.vkey\" <\"$T/s1b.json\""
ok "the same output as from the file" cmp -s "$T/out" "$T/s1b.txt"

expect 0 "verify --html" "$PARLEY" verify "$T/s1b.json" --log-key "$T/published.vkey" \
	--html "$T/s1b.html"
ok "the page is written, mode 0644" [ "$(mode_of "$T/s1b.html")" = "-rw-r--r--" ]
ok "the page is HTML" holds "$T/s1b.html" "<html"
ok "the page holds the verdicts" holds "$T/s1b.html" "NOT conveyed: the thread index at"
ok "the page loads nothing: no script" lacks "$T/s1b.html" "<script"
ok "the page loads nothing: no link" lacks "$T/s1b.html" "<link"
ok "the page loads nothing: no src attribute" lacks "$T/s1b.html" "src="
ok "the page loads nothing: no url()" lacks "$T/s1b.html" "url("
ok "the page loads nothing: no http reference" lacks "$T/s1b.html" "http:"
ok "the page loads nothing: no https reference" lacks "$T/s1b.html" "https:"
ok "the page loads nothing: no import" lacks "$T/s1b.html" "@import"
ok "the page forbids external assets" holds "$T/s1b.html" "default-src 'none'"

# ---- The self-verifying page: libparley's verifier, compiled to WebAssembly, in Chromium ----
expect 0 "verify --page" "$PARLEY" verify "$T/s1b.json" --log-key "$T/published.vkey" \
	--page "$T/s1b-page.html"
if grep -q "built without the browser verifier" "$T/err"; then
	echo "ok $((count + 1)) # SKIP the self-verifying page: built without emscripten"
	count=$((count + 1))
else
	ok "the page is one file: the dossier, libsodium and the verifier inline" \
		holds "$T/s1b-page.html" 'data-name="parley-verifier"'
	ok "the page loads nothing from elsewhere: no src attribute" \
		sh -c "! grep -q '<script[^>]* src=' \"$T/s1b-page.html\""
	ok "the page forbids external assets" holds "$T/s1b-page.html" "default-src 'none'"
	"$PARLEY" verify "$T/s1b.json" --log-key "$T/published.vkey" --json >"$T/s1b-verify.json"
	if ! command -v chromium >/dev/null 2>&1; then
		echo "ok $((count + 1)) # SKIP the page in a browser: chromium is not installed (make deps)"
		count=$((count + 1))
	else
		expect 0 "Chromium opens the page from disk, offline" \
			python3 "$(dirname "$0")/browser.py" "${PL_SCREENSHOTS:-$T/shots}/dossier-s1b" \
			"file://$T/s1b-page.html"
		ok "the browser says the dossier verified" json_holds "$T/out" '"state":"verified"'
		ok "the browser shows every verdict and timeline line of parley verify" \
			python3 -c 'import json, sys
page = json.loads(open(sys.argv[1]).readline())["text"]
want = json.load(open(sys.argv[2]))
lines = [v["text"] for v in want["verdicts"]] + [e["what"] for e in want["events"]]
missing = [x for x in lines if x not in page]
sys.exit(1 if missing or not lines else 0)' "$T/out" "$T/s1b-verify.json"
		ok "it names the log key it verified against" \
			holds "$T/out" "$(cut -d+ -f1-2 "$T/published.vkey")"
		# A page made without a log key; the reader pastes the exchange's published one.
		"$PARLEY" verify "$T/s1b.json" --page "$T/s1b-nokey.html" >/dev/null 2>&1
		expect 0 "Chromium opens a page made without a log key, then the reader pastes one" \
			python3 "$(dirname "$0")/browser.py" --paste-log-key "$T/published.vkey" \
			"${PL_SCREENSHOTS:-$T/shots}/dossier-s1b-paste" "file://$T/s1b-nokey.html"
		sed -n 1p "$T/out" >"$T/before"
		sed -n 2p "$T/out" >"$T/after"
		ok "before: it verifies with the dossier's own key, and says so" \
			holds "$T/before" "(not given by the reader)"
		ok "after pasting the published key: it verifies against that key" \
			sh -c "json_ok() { tr -d '\n ' <\"\$1\" | grep -F -q '\"state\":\"verified\"'; }
			json_ok \"$T/after\" && ! grep -F -q '(not given by the reader)' \"$T/after\""
	fi
fi

expect 0 "verify --json" "$PARLEY" verify "$T/s1b.json" --log-key "$T/published.vkey" --json
ok "JSON: verifies" json_holds "$T/out" '"verifies":true'
ok "JSON: the key was pinned" json_holds "$T/out" '"log_key_pinned":true'
ok "JSON: the subject" json_holds "$T/out" "\"subject\":\"$S1B\""
ok "JSON: a not-done verdict" json_holds "$T/out" '"kind":"not-done","text":"NOTconveyed'
ok "JSON: the disclosed text" json_holds "$T/out" '"text":"Proposal:militarytalks'

# ---- Evidence that does not hold: status 1, one line naming it ----
sed 's/class proposal/class proposam/' "$T/s1b.json" >"$T/t-byte.json"
ok "tampered copy: one byte of a record changed" [ "$(cmp -l "$T/s1b.json" "$T/t-byte.json" | wc -l)" -eq 1 ]
expect 1 "verify fails: a record was edited" "$PARLEY" verify "$T/t-byte.json" \
	--log-key "$T/published.vkey"
ok "one line says which evidence and why" said_one "does not verify: "
ok "nothing on standard output" [ ! -s "$T/out" ]

drop_thread_entry "$T/s1b.json" "$T/t-thread.json" 2
ok "tampered copy: the receive left out of the thread" \
	[ "$(thread_entries "$T/t-thread.json")" -eq 3 ]
expect 1 "verify fails: a record the index lists is missing" "$PARLEY" verify \
	"$T/t-thread.json" --log-key "$T/published.vkey"
ok "it says the thread lacks it" said "the dossier's thread does not hold that record"

omit_index_entry "$T/s1b.json" "$T/t-omit.json"
ok "tampered copy: the proposal's index proof lists one record less" \
	differ "$T/s1b.json" "$T/t-omit.json"
expect 1 "verify fails: the index proof omits an entry" "$PARLEY" verify "$T/t-omit.json" \
	--log-key "$T/published.vkey"
ok "it says the proof does not lead to the index's root" \
	said "thread index proof does not lead to the root"

# ---- Version 1 dossiers are still read: the golden one, and its tampered copies ----
cp "$V1/s1b.json" "$T/v1.json"
expect 0 "verify a version 1 dossier" "$PARLEY" verify "$T/v1.json" --log-key "$V1/log.vkey" \
	--witness "$V1/witness.vkey"
ok "verdict: the window is complete" printed "are present and hash to its root"
ok "verdict: NOT conveyed, resting on unc's records in the window" \
	printed "NOT conveyed: unc's "

drop_entry "$T/v1.json" "$T/t-drop.json" 3
ok "tampered copy: window entry 3 dropped" \
	[ "$(entries "$T/t-drop.json")" -eq "$(($(entries "$T/v1.json") - 1))" ]
expect 1 "verify fails: a window entry is missing" "$PARLEY" verify "$T/t-drop.json" \
	--log-key "$V1/log.vkey"
ok "it names the window" said "window"

swap_entries "$T/v1.json" "$T/t-swap.json" 2
ok "tampered copy: window entries 2 and 3 swapped" differ "$T/v1.json" "$T/t-swap.json"
expect 1 "verify fails: the window is reordered" "$PARLEY" verify "$T/t-swap.json" \
	--log-key "$V1/log.vkey"
ok "it names the window" said "window"

tamper_proven "$T/v1.json" "$T/t-proven.json"
ok "tampered copy: one byte of a record before the window changed" \
	[ "$(cmp -l "$T/v1.json" "$T/t-proven.json" | wc -l)" -eq 1 ]
expect 1 "verify fails: a proven record was edited" "$PARLEY" verify "$T/t-proven.json" \
	--log-key "$V1/log.vkey"
ok "it names the record's proof" said "proof"

tamper_disclosure "$T/s1b.json" "$T/t-disc.json"
ok "tampered copy: the disclosed plaintext differs" differ "$T/s1b.json" "$T/t-disc.json"
expect 1 "verify fails: the disclosure does not match its commitment" \
	"$PARLEY" verify "$T/t-disc.json" --log-key "$T/published.vkey"
ok "it names the disclosure" said "disclos"

expect 1 "verify fails with another log key" "$PARLEY" verify "$T/s1b.json" \
	--log-key "$IDS/unc.vkey"
ok "it names the log key" said "log key"

ok "the HTML page is not rewritten when the dossier fails" cp "$T/s1b.html" "$T/s1b.html.kept"
expect 1 "verify --html of a tampered copy" "$PARLEY" verify "$T/t-byte.json" \
	--log-key "$T/published.vkey" --html "$T/s1b.html"
ok "the page is the old one" cmp -s "$T/s1b.html" "$T/s1b.html.kept"

expect 1 "verify --json of a tampered copy" "$PARLEY" verify "$T/t-byte.json" \
	--log-key "$T/published.vkey" --json
ok "JSON: does not verify, evidence" json_holds "$T/out" '"verifies":false,"failure":"evidence"'

# ---- Exit codes, every class of refusal: 1 the evidence does not hold, 2 not a dossier ----
gap_entry "$T/v1.json" "$T/t-gap.json" 3
ok "tampered copy: window entry 3 dropped, a gap left in the indexes" \
	[ "$(entries "$T/t-gap.json")" -eq "$(($(entries "$T/v1.json") - 1))" ]
dup_entry "$T/v1.json" "$T/t-dup.json" 2
ok "tampered copy: window entry 2 repeated" \
	[ "$(entries "$T/t-dup.json")" -eq "$(($(entries "$T/v1.json") + 1))" ]
swap_proven_indexes "$T/v1.json" "$T/t-porder.json"
ok "tampered copy: two records before the window out of order" \
	differ "$T/v1.json" "$T/t-porder.json"
sed 's/class proposal/class proposam/' "$T/v1.json" >"$T/t-v1byte.json"
printf 'garbage\n' >"$T/garbage"
: >"$T/empty"
sed 's#parley/dossier/v2#parley/dossier/v9#' "$T/s1b.json" >"$T/v9.json"
head -c 1000 "$T/s1b.json" >"$T/cut.json"
sed 's/"start": /"start": "x", "y": /' "$T/v1.json" >"$T/t-field.json"
sed 's/"thread": \[/"thread": 7, "x": [/' "$T/s1b.json" >"$T/t-thread-type.json"
# exit | dossier | log key (pub: the published one; v1: the vectors' one; unc: another key) |
# what it is | said
while IFS='|' read -r code file key what why; do
	set -- "$PARLEY" verify "$T/$file"
	[ "$key" = pub ] && set -- "$@" --log-key "$T/published.vkey"
	[ "$key" = v1 ] && set -- "$@" --log-key "$V1/log.vkey"
	[ "$key" = unc ] && set -- "$@" --log-key "$IDS/unc.vkey"
	expect "$code" "exit $code: $what" "$@"
	ok "exit $code: $what: one line says \"$why\"" said_one "$why"
done <<EOF
1|t-byte.json|pub|a byte of a thread record edited|inclusion proof
1|t-thread.json|pub|a thread record left out|does not verify: log #
1|t-omit.json|pub|an index proof that omits an entry|does not verify: log #
1|t-v1byte.json|v1|a byte of a version 1 window record edited|does not verify: window
1|t-drop.json|v1|a window entry dropped, the later ones renumbered|does not verify: window
1|t-gap.json|v1|a window entry dropped, a gap in the indexes|does not verify: window
1|t-dup.json|v1|a window entry repeated|does not verify: window
1|t-swap.json|v1|two window entries swapped|does not verify: window
1|t-proven.json|v1|a record before the window edited|inclusion proof
1|t-porder.json|v1|records before the window out of order|does not verify: proven
1|t-disc.json|pub|a disclosed plaintext that does not match|does not verify: disclosure
1|s1b.json|unc|another log key|does not verify: log key
2|garbage|pub|not JSON|not a well-formed dossier
2|empty|pub|an empty file|not a well-formed dossier
2|v9.json|pub|another format version|not a well-formed dossier
2|cut.json|pub|a truncated file|not a well-formed dossier
2|t-field.json|v1|a field of the wrong type|not a well-formed dossier
2|t-thread-type.json|pub|a version 2 field of the wrong type|not a well-formed dossier
2|missing.json|pub|a file that does not exist|missing.json
EOF

# ---- Not a dossier: status 2 ----
printf 'garbage\n' >"$T/garbage"
expect 2 "verify garbage" "$PARLEY" verify "$T/garbage"
ok "it says it is not a dossier" said "not a well-formed dossier"
: >"$T/empty"
expect 2 "verify an empty file" "$PARLEY" verify "$T/empty"
sed 's#parley/dossier/v2#parley/dossier/v9#' "$T/s1b.json" >"$T/v9.json"
expect 2 "verify another version" "$PARLEY" verify "$T/v9.json"
head -c 1000 "$T/s1b.json" >"$T/cut.json"
expect 2 "verify a truncated dossier" "$PARLEY" verify "$T/cut.json"
expect 2 "verify a file that does not exist" "$PARLEY" verify "$T/missing.json"
expect 2 "verify without a file" "$PARLEY" verify
expect 2 "verify with two files" "$PARLEY" verify "$T/s1b.json" "$T/s2.json"
expect 2 "verify with a malformed --log-key" "$PARLEY" verify "$T/s1b.json" --log-key nope+1+2
expect 2 "verify with a --quorum above the witnesses" "$PARLEY" verify "$T/s1b.json" --quorum 1
expect 2 "verify with a log key as --witness" "$PARLEY" verify "$T/s1b.json" \
	--witness "$T/published.vkey"
expect 2 "verify with an unknown option" "$PARLEY" verify "$T/s1b.json" --frobnicate

finish

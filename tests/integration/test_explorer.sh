#!/bin/sh
# The public explorer of a real parleyd on 127.0.0.1, read as an outsider with curl. The story:
# a defence ministry, the UN Command and the other side's army speak in public (one of them
# with a body that tries to inject markup) while a proposal travels between them in private,
# and a public statement cites that private proposal. An outsider then opens the explorer:
# the statements render newest first, page and filter; nothing private ever shows, not even
# as "exists"; the hostile body stays text; the Atom feed is valid RFC 4287 (checked with Go's
# encoding/xml); every statement's public proof verifies with `parley log verify-proof` and
# with Go's x/mod; /metrics parses; and /health turns unhealthy once the newest checkpoint is
# older than parleyd.conf allows.
#
#   test_explorer.sh PARLEY PARLEYD DRIVER EXPLORER_CHECK.GO GOCACHE
# shellcheck source=tests/integration/test_cli_lib.sh
. "$(dirname "$0")/test_cli_lib.sh"

CHECK=$(abspath "$4")
GOCACHE_DIR=$(abspath "$5")
GOSRC=/usr/share/gocode

# go_check ARGS...: runs explorer_check.go (GOPATH mode, Debian's x/mod), output in $T/go.out.
have_go() {
	command -v go >/dev/null 2>&1 && [ -d "$GOSRC/src/golang.org/x/mod/sumdb" ]
}
go_check() {
	mkdir -p "$GOCACHE_DIR"
	GO111MODULE=off GOPATH=$GOSRC GOCACHE=$GOCACHE_DIR GOFLAGS="" go run "$CHECK" "$@" \
		>"$T/go.out" 2>"$T/go.err" || { sed 's/^/# go: /' "$T/go.err"; return 1; }
}
skip() {
	report ok "$1 # SKIP $2"
}

# GET URL$1 into $T/page, headers in $T/head; prints the status.
get() {
	curl -sS --max-time 20 -D "$T/head" -o "$T/page" -w '%{http_code}' "$URL$1"
}
status_is() {
	[ "$(get "$1")" = "$2" ]
}
page_has() {
	grep -qF -e "$1" "$T/page"
}
page_lacks() {
	! grep -qF -e "$1" "$T/page"
}
header_has() {
	tr -d '\r' <"$T/head" | grep -qiF -e "$1"
}

ok "an exchange with four parties" setup_exchange rok-mnd unc kpa dprk
printf 'public_lines = unc-kpa\nline = unc-kpa unc kpa every 1h window 5m\n' >>"$T/parleyd.conf"
ok "parleyd serves on a free port" start_exchange "$DATA"
MAIN=$LASTPID
ok "profiles for every party" make_profiles rok-mnd unc kpa dprk
LOGKEY=$(cat "$DATA/log.vkey")

# The private story: a proposal through the UN Command, and a consultation.
echo "Proposal for military talks at Panmunjom." >"$T/proposal"
expect 0 "rok-mnd sends a proposal to kpa via unc" as rok-mnd send --class proposal --to kpa \
	--via unc --body-file "$T/proposal"
SEND=$(last_id)
expect 0 "rok-mnd consults unc on a draft" as rok-mnd consult --with unc --body-file "$T/proposal"
CONSULT=$(last_id)

# The public story, with a body that tries every way out of HTML text.
printf '%s\n' '<script>alert("owned")</script> & <img src=x onerror=alert(1)> '"'"'q'"'"' ]]>' \
	>"$T/hostile"
expect 0 "dprk makes a statement with a hostile body" as dprk statement --body-file "$T/hostile"
HOSTILE=$(last_id)
echo "The Command conveyed no such message." >"$T/unc-says"
expect 0 "unc states publicly, citing nothing" as unc statement --body-file "$T/unc-says"
UNCST=$(last_id)
echo "Loudspeakers resume at the MDL." | as rok-mnd statement --measure >"$T/out" 2>"$T/err"
ok "rok-mnd announces a measure" [ $? -eq 0 ]
MEASURE=$(last_id)
echo "Our proposal stands." >"$T/kpa-says"
expect 0 "rok-mnd states publicly, citing its private proposal" \
	as rok-mnd statement --cites "$SEND" --body-file "$T/kpa-says"
CITING=$(last_id)

# Pages: what anyone sees.
ok "GET / answers 200" status_is / 200
ok "/ is HTML" header_has "content-type: text/html; charset=utf-8"
ok "/ has a strict Content-Security-Policy" header_has "content-security-policy: default-src 'none'; style-src 'sha256-"
ok "/ is never framed and sends no referrer" header_has "referrer-policy: no-referrer"
ok "/ declares its language and a viewport" \
	sh -c "grep -qF '<html lang=\"en\">' '$T/page' && grep -qF 'name=\"viewport\"' '$T/page'"
ok "/ has landmarks: header, nav, main, footer" \
	sh -c "grep -qF '<main>' '$T/page' && grep -qF '<nav aria-label=' '$T/page' && grep -qF '<footer>' '$T/page'"
ok "/ loads nothing from elsewhere" sh -c "! grep -qiE '(src|href)=\"(https?:)?//' '$T/page'"
ok "/ lists unc's statement" page_has "/statement/$UNCST"
ok "/ lists the measure as a measure" page_has "Measure by rok-mnd"
ok "/ lists the citing statement" page_has "/statement/$CITING"
ok "/ newest first: the citing statement before unc's" \
	[ "$(grep -n "/statement/$CITING" "$T/page" | head -1 | cut -d: -f1)" -lt \
	"$(grep -n "/statement/$UNCST" "$T/page" | head -1 | cut -d: -f1)" ]
ok "/ escapes the hostile body" page_has '&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; &#39;q&#39; ]]&gt;'
ok "/ holds no script but none at all" page_lacks "<script"
ok "/ holds no injected element" page_lacks "<img"

# Need-to-know: the private records never show, not even as existing.
for p in / /directory /log /lines /statements.atom "/statement/$CITING"; do
	get "$p" >/dev/null
	ok "$p never names the private send" page_lacks "$SEND"
	ok "$p never names the consultation" page_lacks "$CONSULT"
done
get "/statement/$CITING" >/dev/null
ok "the citing statement's page says the cited record is not public" page_has "not public"
ABSENT=0000000000000000000000000000000000000000000000000000000000000000
for p in statement record proof; do
	get "/$p/$ABSENT" >/dev/null
	cp "$T/page" "$T/absent.$p"
	ok "/$p/ of the private send: 404" status_is "/$p/$SEND" 404
	ok "/$p/ of the private send: the same body as for no record" cmp -s "$T/page" "$T/absent.$p"
	ok "/$p/ of a prefix of the private send: 404" status_is "/$p/$(echo "$SEND" | cut -c1-12)" 404
done
ok "/statement/ of a register record: 404 (no statement)" \
	status_is "/statement/$(sed -n 's/.*href="\/record\/\([0-9a-f]*\)".*/\1/p' "$T/page" | head -1)" 404

# The statement page and its contract with the in-browser verifier.
ok "/statement/<id> answers 200" status_is "/statement/$UNCST" 200
ok "the statement page has the verifier section" page_has "<section id=\"pl-verify\""
ok "... naming the raw record" page_has "data-record=\"/record/$UNCST\""
ok "... and its proof" page_has "data-proof=\"/proof/$UNCST\""
ok "... and the checkpoint" page_has 'data-checkpoint="/checkpoint"'
ok "... and the log key" page_has "data-log-key=\"$LOGKEY\""
ok "... and the author's registered key" page_has "data-author-key=\"hotline.example/unc+"
ok "... and the script that verifies in the browser" page_has '<script src="/assets/parley-verify.js" defer></script>'
ok "... and, without it, the command that checks the same" page_has "parley log verify-proof"
ok "an id prefix finds the statement" status_is "/statement/$(echo "$UNCST" | cut -c1-10)" 200

# Filters and pages.
ok "/?party=unc answers 200" status_is "/?party=unc" 200
ok "/?party=unc lists unc's statement" page_has "/statement/$UNCST"
ok "/?party=unc leaves rok-mnd's out" page_lacks "/statement/$CITING"
ok "/?party=nobody: none matches" sh -c "curl -s '$URL/?party=nobody' | grep -qF 'No public statement matches'"
TODAY=$(date -u +%Y-%m-%d)
ok "/?from=today&to=today lists today's" sh -c "curl -s '$URL/?from=$TODAY&to=$TODAY' | grep -qF '/statement/$UNCST'"
ok "/?to=2000-01-01 lists none" sh -c "curl -s '$URL/?to=2000-01-01' | grep -qF 'No public statement matches'"
ok "a blank form is no filter" sh -c "curl -s '$URL/?party=&from=&to=' | grep -qF '/statement/$UNCST'"
ok "a malformed date is refused" status_is "/?from=2023-13-01" 400
ok "a malformed party is refused" status_is "/?party=UNC" 400
n=0
while [ $n -lt 20 ]; do
	n=$((n + 1))
	echo "Routine statement $n." | as kpa statement >/dev/null 2>"$T/err" || break
done
ok "kpa makes 20 more statements" [ $n -eq 20 ]
get / >/dev/null
ok "a page holds 20" [ "$(grep -c '<article>' "$T/page")" -eq 20 ]
ok "the first page links to older statements" page_has 'rel="next">Older statements'
NEXT=$(sed -n 's/.*<a href="\(\/?before=[0-9]*\)" rel="next".*/\1/p' "$T/page")
ok "the older page answers" status_is "$NEXT" 200
ok "the older page holds unc's statement" page_has "/statement/$UNCST"
ok "the older page does not repeat the newest" page_lacks "Routine statement 20."

# The directory, the log and the public line.
ok "/directory answers 200" status_is /directory 200
ok "/directory lists kpa with its key" page_has '<th scope="row"><a href="/?party=kpa">kpa</a></th>'
ok "/directory has table headers" page_has '<th scope="col">signing key</th>'
ok "/log answers 200" status_is /log 200
ok "/log shows the log key" page_has "$LOGKEY"
ok "/log shows the newest checkpoint" page_has "Tree size <strong>"
ok "/lines answers 200" status_is /lines 200
ok "/lines shows the public line" page_has "<h2>unc-kpa</h2>"
ok "... with its own count, as parley line availability words it" page_has "<p>line unc-kpa: "
ok "/lines over a period long past answers 200" status_is "/lines?from=2020-01-01&to=2020-01-02" 200
ok "... and counts no check in it" page_has "line unc-kpa: no checks since 2020-01-01T00:00:00Z until 2020-01-03"
ok "/lines with a malformed date is refused" status_is "/lines?from=2020-13-01" 400

# The Atom feed.
ok "/statements.atom answers 200" status_is /statements.atom 200
ok "the feed is application/atom+xml" header_has "content-type: application/atom+xml"
ok "the feed's content is escaped" page_has '&lt;script&gt;alert(&quot;owned&quot;)'
cp "$T/page" "$T/feed.xml"
if have_go; then
	ok "the feed is valid RFC 4287 (Go encoding/xml)" go_check atom "$T/feed.xml"
else
	skip "the feed is valid RFC 4287 (Go encoding/xml)" "no Go or x/mod"
fi

# Public proofs: without credentials, verified by parley and by Go's x/mod.
for id in "$UNCST" "$HOSTILE" "$MEASURE"; do
	ok "/record/$id answers 200" status_is "/record/$id" 200
	cp "$T/page" "$T/rec.$id"
	ok "/proof/$id answers 200" status_is "/proof/$id" 200
	cp "$T/page" "$T/proof.$id"
	expect 0 "parley log verify-proof checks it" "$PARLEY" log verify-proof "$T/proof.$id" \
		--entry "$T/rec.$id" --log-key "$LOGKEY"
	if have_go; then
		ok "Go's x/mod checks it" go_check proof "$T/proof.$id" "$T/rec.$id" "$LOGKEY"
	else
		skip "Go's x/mod checks it" "no Go or x/mod"
	fi
done
printf 'x' >>"$T/rec.$UNCST"
expect 1 "a changed record does not verify" "$PARLEY" log verify-proof "$T/proof.$UNCST" \
	--entry "$T/rec.$UNCST" --log-key "$LOGKEY"

# The tools: a proof exported and checked again anywhere; the statements read by an outsider.
expect 0 "parley log proof as an outsider" "$PARLEY" log proof "$UNCST" --exchange "$URL" \
	--log-key "$LOGKEY" -o "$T/out.proof"
curl -s "$URL/record/$UNCST" >"$T/unc.rec"
expect 0 "... round-trips through parley log verify-proof" "$PARLEY" log verify-proof \
	"$T/out.proof" --entry "$T/unc.rec" --log-key "$LOGKEY"
if have_go; then
	ok "... and through Go's x/mod" go_check proof "$T/out.proof" "$T/unc.rec" "$LOGKEY"
else
	skip "... and through Go's x/mod" "no Go or x/mod"
fi
expect 3 "parley log proof of the private send as an outsider: refused" "$PARLEY" log proof \
	"$SEND" --exchange "$URL" --log-key "$LOGKEY"
ok "... as if it did not exist" said "no public record has that id"
expect 0 "parley log proof of the private send as its author" "$PARLEY" log proof "$SEND" \
	--profile "$T/prof/rok-mnd" -o "$T/send.proof"
ok "... round-trips through parley log verify-proof" sh -c \
	"\"$PARLEY\" show '$SEND' --profile '$T/prof/rok-mnd' --json | \
	 python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)[\"record\"])' >'$T/send.rec' &&
	 \"$PARLEY\" log verify-proof '$T/send.proof' --entry '$T/send.rec' --log-key '$LOGKEY' >/dev/null"
if have_go; then
	ok "... and through Go's x/mod" go_check proof "$T/send.proof" "$T/send.rec" "$LOGKEY"
else
	skip "... and through Go's x/mod" "no Go or x/mod"
fi
expect 3 "parley log proof of the send by a party it does not concern: refused" \
	"$PARLEY" log proof "$SEND" --profile "$T/prof/dprk"
expect 0 "parley statements, with no profile" "$PARLEY" statements --exchange "$URL" \
	--log-key "$LOGKEY"
ok "... lists unc's statement" printed "$UNCST unc statement"
ok "... lists the measure" printed "$MEASURE rok-mnd measure"
ok "... says each was verified" printed "verified 24 statements against the log key"
expect 0 "parley statements --json --max 2" "$PARLEY" statements --exchange "$URL" \
	--log-key "$LOGKEY" --json --max 2
ok "... two statements and where to go on" python3 -c \
	'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["statements"])==2 and d["next"]>0' \
	"$T/out"
mkdir -p "$T/otherlog"
"$PARLEY" keygen hotline.example --out "$T/otherlog" >/dev/null
expect 1 "parley statements with another log key: the evidence does not hold" "$PARLEY" \
	statements --exchange "$URL" --log-key "$T/otherlog/hotline.example.vkey"

# /metrics: to this host by default, in the Prometheus text format.
ok "/metrics answers 200 to 127.0.0.1" status_is /metrics 200
ok "/metrics is the text format 0.0.4" header_has "content-type: text/plain; version=0.0.4"
cp "$T/page" "$T/metrics"
if have_go; then
	ok "/metrics parses (Go)" go_check metrics "$T/metrics"
	for fam in "parley_records_total counter" "parley_batch_records histogram" \
		"parley_commit_seconds histogram" "parley_fsync_seconds histogram" \
		"parley_sequencer_queue gauge" "parley_checkpoint_age_seconds gauge" \
		"parley_http_requests_total counter" "parley_http_connections gauge" \
		"parley_http_streams gauge" "parley_tree_size gauge"; do
		ok "/metrics has $fam" grep -qxF "$fam" "$T/go.out"
	done
else
	skip "/metrics parses (Go)" "no Go or x/mod"
fi
ok "/metrics counts the statements" grep -q '^parley_records_total{kind="statement"} [1-9]' "$T/metrics"
ok "/metrics counts the explorer's answers" \
	grep -q '^parley_http_requests_total{route="explorer",code="200"} [1-9]' "$T/metrics"
ok "/health is ok by default" status_is /health 200
ok "parleyd stops" stop_exchange "$MAIN"

# Metrics off, and a checkpoint age limit: /health turns unhealthy once nothing is signed.
printf 'timer_interval_ms = 100\nmetrics_allow = none\nhealth_checkpoint_age = 1\n' \
	>"$T/parleyd.conf"
ok "parleyd serves again with metrics off and a 1 s checkpoint age" start_exchange "$DATA"
ok "/metrics is refused" status_is /metrics 403
ok "/health turns 503 once the newest checkpoint is older than 1 s" \
	wait_for 100 status_is /health 503
ok "... and says why" page_has "unhealthy: the newest checkpoint is"
ok "... as a 503 that may be retried" header_has "retry-after:"
ok "parleyd stops again" stop_exchange "$LASTPID"

# A witness that never answers, and a witness age limit: /health turns unhealthy once that
# witness has not cosigned for longer than it (counted from parleyd's start).
WKEY=$(cat "$(dirname "$0")/../vectors/dossier/witness.vkey")
printf 'timer_interval_ms = 100\nwitness_interval_ms = 100\nhealth_witness_age = 1\n' \
	>"$T/parleyd.conf"
printf 'witness = http://127.0.0.1:%s %s\n' "$("$DRIVER" freeport)" "$WKEY" >>"$T/parleyd.conf"
ok "parleyd serves with a silent witness and a 1 s witness age" start_exchange "$DATA"
ok "/health turns 503 once the witness has not cosigned for over 1 s" \
	wait_for 100 status_is /health 503
ok "... and names the witness" page_has "unhealthy: witness witness.example"

finish

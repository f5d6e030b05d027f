#!/bin/sh
# parley inbox: the lines a party reads, against a golden file (record ids and times
# normalised: each id becomes ID1, ID2... in order of first appearance, each time TIME),
# the cursor, and --json.
# shellcheck source=tests/integration/test_cli_lib.sh
. "$(dirname "$0")/test_cli_lib.sh"
GOLDEN=$4

# Ids (runs of exactly 16 or 64 lowercase hex digits) to ID<n>; RFC 3339 times to TIME.
normalise() {
	sed 's/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z/TIME/g' |
		awk '
		function flush() {
			if (run != "") {
				if (length(run) == 16 || length(run) == 64) {
					k = substr(run, 1, 16)
					if (!(k in ids)) ids[k] = "ID" (++n)
					out = out ids[k]
				} else {
					out = out run
				}
				run = ""
			}
		}
		{
			out = ""; run = ""
			for (i = 1; i <= length($0); i++) {
				c = substr($0, i, 1)
				if (index("0123456789abcdef", c) > 0) { run = run c } else { flush(); out = out c }
			}
			flush()
			print out
		}'
}

ok "an exchange with three parties" setup_exchange rok-mnd unc kpa
ok "parleyd serves on a free port" start_exchange "$DATA"
ok "a profile for each" make_profiles rok-mnd unc kpa

# The records kpa will see, made in a fixed order.
echo "Talks on 1 December?" | as rok-mnd send --class proposal --to kpa --via unc >"$T/out" 2>&1
S1=$(last_id)
as unc convey "$S1" >/dev/null 2>&1
as kpa accept "$S1" >/dev/null 2>&1
echo "A letter." | as rok-mnd send --class letter --to kpa --via unc >"$T/out" 2>&1
S2=$(last_id)
as unc decline "$S2" --reason "Outside the remit" >/dev/null 2>&1
echo "A message." | as rok-mnd send --to kpa >"$T/out" 2>&1
S3=$(last_id)
as kpa refuse "$S3" --reason "Not through this channel" >/dev/null 2>&1
echo "We conveyed it." | as unc statement --cites "$S1" >/dev/null 2>&1
echo "Our answer." | as kpa send --to rok-mnd --reply-to "$S1" >/dev/null 2>&1
echo "Draft." | as rok-mnd consult --with unc >"$T/out" 2>&1
C1=$(last_id)
as unc advise "$C1" --position object --reason "Not yet" >/dev/null 2>&1

for who in kpa rok-mnd unc; do
	expect 0 "$who's inbox" as "$who" inbox
	normalise <"$T/out" | sed "s/^/$who: /" >>"$T/inbox.txt"
done
if diff -u "$GOLDEN" "$T/inbox.txt" >"$T/diff"; then
	report ok "the inboxes match the golden file"
else
	report fail "the inboxes match the golden file"
	sed 's/^/# /' "$T/diff"
fi

expect 0 "kpa's inbox again is empty" as kpa inbox
ok "nothing new" [ ! -s "$T/out" ]
echo "One more." | as rok-mnd send --to kpa >/dev/null 2>&1
expect 0 "kpa's inbox after one more send" as kpa inbox
ok "only the new records: the send and its availability" [ "$(wc -l <"$T/out")" -eq 2 ]
expect 0 "kpa's inbox --all" as kpa inbox --all
ok "--all lists everything from the start" [ "$(wc -l <"$T/out")" -eq 9 ]
expect 0 "kpa's inbox --all --json" as kpa inbox --all --json
ok "--json: an array of records" grep -q '^\[' "$T/out"
ok "--json: each with its signed text" printed '"record": "parley/record/v1\n'
ok "--json: the statement's body" printed '"body": "We conveyed it.\n"'
finish

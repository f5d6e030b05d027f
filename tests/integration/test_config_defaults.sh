#!/bin/sh
# shellcheck disable=SC2016 # backquotes of Markdown, meant literally
# The documented parleyd.conf defaults agree with the code's: scripts/check-config-defaults
# runs `parleyd init` and checks every key its parleyd.conf sets against parleyd.conf(5) and
# the marked table of docs/api.md. Then copies of the docs that disagree (a wrong value, a
# key without a documented default, a row naming a key the code does not have, no marked
# table) and a parleyd whose parleyd.conf gains a key nobody documented must each fail,
# naming the file and the key.
# Arguments: parleyd check-config-defaults parleyd.conf.5 api.md
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
PARLEYD=$PARLEY
CHECK=$(abspath "$2")
MAN=$(abspath "$3")
API=$(abspath "$4")

expect 0 "the documented defaults agree with what parleyd init writes" \
	"$CHECK" "$PARLEYD" "$MAN" "$API"
ok "it says how many it checked" printed "defaults agree"
expect 0 "the docs name payload_max's real default" grep -q '`payload_max` | `8391506`' "$API"

# Copies that disagree with the code: each must fail and name the file and the key.
sed 's/^Default 8391506, that largest blob\.$/Default 16777216./' "$MAN" >"$T/man-value"
sed '/^\.It Cm sse_max$/,/^\.El$/{/^Default /d}' "$MAN" >"$T/man-missing"
sed '/^Default$/{n;s/^\.Ql 127\.0\.0\.1:8080 \.$/.Ql 0.0.0.0:8080 ./}' "$MAN" >"$T/man-listen"
sed 's/| `8391506` (/| `16777216` (/' "$API" >"$T/api-value"
sed 's/| `sse_max` | `256` |/| `sse_limit` | `256` |/' "$API" >"$T/api-unknown"
sed 's/| `rate` | `2000` |/| `rate` | 2000 |/' "$API" >"$T/api-novalue"
grep -v '^<!-- defaults: parleyd\.conf -->$' "$API" >"$T/api-unmarked"
for f in man-value man-missing man-listen api-value api-unknown api-novalue api-unmarked; do
	ok "the copy $f differs from the original" sh -c '! cmp -s "$1" "$2" && ! cmp -s "$1" "$3"' \
		sh "$T/$f" "$MAN" "$API"
done
# name | man page | api.md | what it must say
while IFS='|' read -r name man api why; do
	expect 1 "$name fails" "$CHECK" "$PARLEYD" "$man" "$api"
	ok "$name: it says \"$why\"" sh -c 'grep -qF -e "$1" "$2"' sh "$why" "$T/out"
done <<EOF
a wrong default in parleyd.conf(5)|$T/man-value|$API|payload_max: documented default 16777216, parleyd init writes 8391506
a key without its Default line|$T/man-missing|$API|sse_max: no documented default (parleyd init writes 256)
a wrong .Ql default|$T/man-listen|$API|listen: documented default 0.0.0.0:8080, parleyd init writes 127.0.0.1:8080
a wrong default in api.md|$MAN|$T/api-value|payload_max: documented default 16777216, parleyd init writes 8391506
a row naming a key the code does not have|$MAN|$T/api-unknown|sse_limit: not a key parleyd init writes
a row whose default is not marked as a value|$MAN|$T/api-novalue|rate: no \`value\` in the default column
an api.md without the marked table|$MAN|$T/api-unmarked|no marked table of defaults
EOF

# A key added to the code is checked as soon as
# parleyd init writes it: undocumented, it fails.
cat >"$T/parleyd-newkey" <<EOF
#!/bin/sh
"$PARLEYD" "\$@" || exit \$?
[ "\$1" = init ] && printf 'spare_key = 4\n' >>"\$5/parleyd.conf"
exit 0
EOF
chmod +x "$T/parleyd-newkey"
expect 1 "a parleyd.conf key with no documented default fails" \
	"$CHECK" "$T/parleyd-newkey" "$MAN" "$API"
ok "it names the new key" printed "spare_key: no documented default (parleyd init writes 4)"

expect 2 "without a parleyd" "$CHECK"
expect 2 "with a manual page that does not exist" "$CHECK" "$PARLEYD" "$T/none.5" "$API"

finish

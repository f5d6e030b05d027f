#!/bin/sh
# The self-verifying dossier page in headless Chromium refuses every tampered copy of the
# tamper table of tests/unit/test_dossier.c (that program writes the copies, the keys and the
# reason each must give when PL_TAMPER_DIR is set): `parley verify --page` writes each page,
# browser.py opens them all from disk, and each page says the dossier does not verify (or is
# not a well-formed dossier) with the table's reason. Screenshots go to $PL_SCREENSHOTS.
# Skipped when this parley has no browser verifier or Chromium is not installed.
PARLEY=$1
UNIT=$2
BROWSER=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/parley-browser.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
# shellcheck source=tests/integration/tap.sh
. "$(dirname "$0")/tap.sh"

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

mkdir -p "$T/tampers"
PL_TAMPER_DIR="$T/tampers" "$UNIT" >"$T/unit.out" 2>&1 || {
	sed 's/^/# /' "$T/unit.out"
	echo "Bail out! the unit test that writes the tamper table failed"
	exit 1
}
[ -s "$T/tampers/tampers.tsv" ] || { echo "Bail out! no tamper table written"; exit 1; }

# One page per tampered copy, against the keys the table names.
pages=""
tab=$(printf '\t')
while IFS="$tab" read -r n lk wk code reason name; do
	"$PARLEY" verify "$T/tampers/$n.json" --log-key "$lk" --witness "$wk" \
		--page "$T/tampers/$n.html" >"$T/out" 2>"$T/err"
	got=$?
	if grep -q "built without the browser verifier" "$T/err"; then
		skip_all "this parley was built without the browser verifier (no emscripten, or make deps did not fetch its sources)"
	fi
	ok "parley verify refuses \"$name\" with status $code and writes its page" \
		[ "$got" -eq "$code" -a -s "$T/tampers/$n.html" ]
	pages="$pages file://$T/tampers/$n.html"
done <"$T/tampers/tampers.tsv"

if ! command -v chromium >/dev/null 2>&1; then
	count=$((count + 1))
	echo "ok $count # SKIP the pages in a browser: chromium is not installed (make deps)"
	finish
	exit
fi
# shellcheck disable=SC2086 # one word per page
python3 "$BROWSER" "${PL_SCREENSHOTS:-$T/shots}/tamper" $pages >"$T/seen.jsonl" 2>"$T/browser.err"
ok "Chromium opened every page" [ "$(wc -l <"$T/seen.jsonl")" -eq "$(wc -l <"$T/tampers/tampers.tsv")" ]

# Each page: refused, with the words of the C code and the table's reason.
i=0
while IFS="$tab" read -r n lk wk code reason name; do
	i=$((i + 1))
	sed -n "${i}p" "$T/seen.jsonl" >"$T/seen"
	if [ "$code" -eq 1 ]; then words="This dossier does not verify."; else
		words="This file is not a well-formed dossier."; fi
	ok "the page of \"$name\" says: $words $reason" python3 -c 'import json, sys
seen = json.load(open(sys.argv[1]))
ok = seen["state"] == "refused" and sys.argv[2] in seen["text"] and sys.argv[3] in seen["text"]
sys.exit(0 if ok else 1)' "$T/seen" "$words" "$reason"
done <"$T/tampers/tampers.tsv"

finish

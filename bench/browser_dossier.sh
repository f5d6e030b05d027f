#!/bin/sh
# The self-verifying page of each of the demo's dossiers: its size, and in headless Chromium
# the time libparley's WebAssembly verifier takes to verify it and the time from opening the
# page to its verdict (libsodium and the verifier compiled and started, then the check). Runs
# the demo first when demo-out/ holds no dossier. Figures in docs/performance.md.
#   bench/browser_dossier.sh [BUILD] [RUNS]
set -eu
dir=${1:-build}
runs=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/demo-out
command -v chromium >/dev/null 2>&1 || { echo "browser_dossier: no chromium"; exit 0; }
if ! ls "$out"/*.dossier >/dev/null 2>&1; then
	"$top/scripts/demo" "$dir" >/dev/null
fi
t=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-page.XXXXXX")
trap 'rm -rf "$t"' EXIT
for d in "$out"/*.dossier; do
	name=$(basename "$d" .dossier)
	"$dir/src/parley/parley" verify "$d" --log-key "$out/log.vkey" --page "$t/$name.html" \
		>/dev/null
	urls=""
	i=0
	while [ "$i" -lt "$runs" ]; do
		urls="$urls file://$t/$name.html"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086 # one word per page
	python3 "$top/tests/integration/browser.py" "$t/shots" $urls >"$t/$name.jsonl"
	python3 - "$t/$name.jsonl" "$d" "$t/$name.html" "$name" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
check = statistics.median(float(r["check_ms"]) for r in rows)
ready = statistics.median(float(r["ready_ms"]) for r in rows)
states = {r["state"] for r in rows}
print("%-22s dossier %7d B  page %8d B  verify %7.1f ms  open-to-verdict %7.1f ms  %s"
      % (sys.argv[4], os.path.getsize(sys.argv[2]), os.path.getsize(sys.argv[3]), check, ready,
         "/".join(sorted(states))))
PY
done

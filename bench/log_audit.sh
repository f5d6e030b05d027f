#!/bin/sh
# A full `parley log audit` of a large log, timed against raw Ed25519 verification of as many
# records measured in the same run. The log holds BENCH_AUDIT_RECORDS statements (default
# 1,000,000) from 32 parties, each citing its author's previous one, so that the thread index
# the audit recomputes has about one key per record; it is made once (bench_exchange --load,
# then an auditor registered with parleyd party add) and kept in BUILD-DIR/bench-cache.
# Prints the audit's wall time against the baseline, its CPU time and peak memory, and the
# CPU time parleyd spent serving it.
# Usage: log_audit.sh BUILD-DIR
set -eu
build=$(cd "${1:-build}" && pwd)
n=${BENCH_AUDIT_RECORDS:-1000000}
# Named for the log's format: a log made before every batch ended with an index record is not
# reused.
cache=$build/bench-cache/audit-indexed-$n
# shellcheck source=bench/serve_lib.sh
. "$(dirname "$0")/serve_lib.sh"

if [ ! -f "$cache/ready" ]; then
	rm -rf "$cache"
	mkdir -p "$build/bench-cache"
	echo "making the log of $n records once, in $cache"
	"$build/bench/bench_exchange" --load "$n" "$cache" --cites >"$work/load.out" ||
		{ cat "$work/load.out"; exit 1; }
	grep -v '^baseline' "$work/load.out"
	"$build/src/parley/parley" keygen --party auditor --exchange bench.example \
		--out "$cache/ids" >/dev/null
	"$build/src/parleyd/parleyd" party add auditor --data "$cache" --identity "$cache/ids" \
		>/dev/null
	: >"$cache/ready"
fi

# The audit is the exchange's auditors' (entry bundles): the bench's party is one.
echo 'auditors = auditor' >"$work/parleyd.conf"
bench_serve "$build" "$cache" "$work/parleyd.conf"
"$build/src/parley/parley" init --exchange "$url" --party auditor --key-dir "$cache/ids" \
	--log-key "$(cat "$cache/log.vkey")" --profile "$work/p" >/dev/null

# The baseline before and after the audit, averaged: the machine's load moves meanwhile.
baseline() {
	"$build/bench/bench_exchange" --baseline | awk '{ print $(NF - 1) }'
}
b0=$(baseline)
t0=$(date +%s.%N)
/usr/bin/time -f 'parley log audit: user %U s, system %S s, peak resident %M KiB' -o "$work/time" \
	"$build/src/parley/parley" log audit --profile "$work/p" >"$work/audit.out" \
	2>"$work/audit.err" || { cat "$work/audit.out" "$work/audit.err"; exit 1; }
t1=$(date +%s.%N)
base=$(( ($(baseline) + b0) / 2 ))
sed 's/^/  /' "$work/audit.out"
cat "$work/time"
awk '{ print "parleyd: " ($14 + $15) / 100 " s of CPU since it started" }' "/proc/$pid/stat"
records=$(awk '/^  records:/ { print $2; exit }' "$work/audit.out")
awk -v t0="$t0" -v t1="$t1" -v base="$base" -v r="$records" 'BEGIN {
	t = t1 - t0; v = r / base
	printf "baseline ed25519 verify (1 core): %.0f ops/s, so %.1f s for %d records\n", base, v, r
	printf "parley log audit of %d records: %.1f s (%.2f x one core'\''s raw verification, " \
	       "%.2f x two cores'\'')\n", r, t, t / v, t / (v / 2)
}'

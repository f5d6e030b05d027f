#!/bin/sh
# parleyd's resident memory serving a large log: loads BENCH_RECORDS statements (default
# 1,000,000) into a new store with bench_exchange --load, serves it with the real parleyd on
# 127.0.0.1, reads the checkpoint, tiles across the tree and consistency proofs, and prints
# the resident set (VmRSS) and its peak (VmHWM). Usage: parleyd_memory.sh BUILD-DIR
set -eu
build=${1:-build}
n=${BENCH_RECORDS:-1000000}
# shellcheck source=bench/serve_lib.sh
. "$(dirname "$0")/serve_lib.sh"

"$build/bench/bench_exchange" --load "$n" "$work/data" | sed 's|/tmp/[^ ]*|DIR|'
bench_serve "$build" "$work/data"
size=$(curl -fs "$url/checkpoint" | sed -n 2p)
curl -fs "$url/log-key" >/dev/null
# Hash tiles across the whole tree at levels 0..2, and consistency proofs from many sizes.
t=0
while [ "$t" -lt $((size / 256)) ]; do
	p=$(printf '%09d' "$t" | sed 's/\(...\)\(...\)\(...\)/x\1\/x\2\/\3/; s/^x000\/x000\///; s/^x000\///')
	curl -fs -o /dev/null "$url/tile/0/$p"
	t=$((t + size / 256 / 50 + 1))
done
# The first tile at levels 1 and 2: whole when the tree has filled it, else partial (.p/W).
for l in 1 2; do
	w=$(( size >> (8 * l) ))
	if [ "$w" -ge 256 ]; then
		curl -fs -o /dev/null "$url/tile/$l/000"
	elif [ "$w" -gt 0 ]; then
		curl -fs -o /dev/null "$url/tile/$l/000.p/$w"
	fi
done
for old in 1 1000 65536 $((size / 3)) $((size / 2)) $((size - 1)); do
	[ "$old" -lt "$size" ] || continue
	curl -fs -o /dev/null "$url/consistency?old=$old&new=$size"
done
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
printf 'parleyd serving %s records: resident %s KiB, peak %s KiB (target <= 65536 KiB)\n' \
	"$size" "$rss" "$hwm"

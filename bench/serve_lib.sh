# shellcheck shell=sh
# Shared by the benchmark scripts that serve a large log (sourced, POSIX sh): a work directory
# removed on exit, and parleyd serving a data directory on a free port of 127.0.0.1.
#
#   bench_serve BUILD DATA [CONF]   starts parleyd serve on DATA (with the configuration file
#                                   CONF, if given); sets pid and url, waits for /health
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

bench_serve() {
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000))
	"$1/src/parleyd/parleyd" serve --data "$2" --listen "127.0.0.1:$port" \
		${3:+--config "$3"} 2>"$work/parleyd.log" &
	pid=$!
	url=http://127.0.0.1:$port
	i=0
	until curl -fs "$url/health" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || { echo "parleyd did not start"; cat "$work/parleyd.log"; exit 1; }
		sleep 0.1
	done
}

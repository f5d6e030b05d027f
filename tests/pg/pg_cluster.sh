# shellcheck shell=sh
# A throwaway PostgreSQL cluster for the tests (sourced): `pg_cluster_start` creates one in a
# temporary directory with initdb and pg_ctl as an unprivileged user (PostgreSQL refuses to
# run as root: as root the cluster belongs to `nobody`), listening on 127.0.0.1 at a free
# port with its socket in that directory, and sets PG_URL to a new database on it;
# `pg_cluster_stop` stops the server by its PID and removes the directory. Returns 77 from
# pg_cluster_start when the server binaries are not installed (make deps installs them).
# Small: shared_buffers 16MB, 40 connections; one cluster at a time per test.

PG_DIR=
PG_PID=
PG_URL=

pg_bindir() {
	for d in "${PG_BINDIR:-}" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# Runs a command as the cluster's owner.
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

pg_cluster_start() {
	bin=$(pg_bindir) || return 77
	PG_DIR=$(mktemp -d "/tmp/parley-pg.XXXXXX") || return 1
	chmod 0755 "$PG_DIR"
	[ "$(id -u)" -ne 0 ] || chown nobody "$PG_DIR"
	pg_as_owner "$bin/initdb" -D "$PG_DIR/db" -U parley -A trust -E UTF8 --locale=C \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	tries=0
	while [ $tries -lt 20 ]; do
		tries=$((tries + 1))
		port=$(( $(od -An -N2 -tu2 /dev/urandom) % 30000 + 20000 ))
		if pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/db" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c shared_buffers=16MB \
-c max_connections=40 -c max_wal_size=256MB" start >/dev/null 2>&1; then
			break
		fi
		port=
	done
	[ -n "$port" ] || { cat "$PG_DIR/server.log" >&2; return 1; }
	PG_PID=$(head -n 1 "$PG_DIR/db/postmaster.pid")
	"$bin/createdb" -h 127.0.0.1 -p "$port" -U parley parley || return 1
	PG_URL="postgresql://parley@127.0.0.1:$port/parley"
	export PG_URL
	return 0
}

pg_cluster_stop() {
	if [ -n "$PG_PID" ]; then
		kill -TERM "$PG_PID" 2>/dev/null
		n=0
		# Fast shutdown: bounded wait, then the hard way.
		while kill -0 "$PG_PID" 2>/dev/null && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$PG_PID" 2>/dev/null
		PG_PID=
	fi
	if [ -n "$PG_DIR" ]; then
		[ -n "${KEEP:-}" ] || rm -rf "$PG_DIR"
		PG_DIR=
	fi
}

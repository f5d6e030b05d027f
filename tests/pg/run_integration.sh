#!/bin/sh
# Runs an integration test script ($1, with the rest as its arguments) with the exchange's
# store in a throwaway PostgreSQL cluster: its `parleyd init` gets --store from
# PL_TEST_STORE_URL. A clear TAP skip when the server is not installed.
set -u
. "$(dirname "$0")/pg_cluster.sh"

trap pg_cluster_stop EXIT
trap 'exit 130' INT TERM
pg_cluster_start
rc=$?
if [ $rc -eq 77 ]; then
	echo "1..0 # SKIP PostgreSQL server binaries (initdb, pg_ctl) not installed: make deps"
	exit 0
fi
[ $rc -eq 0 ] || { echo "Bail out! cannot start a PostgreSQL cluster"; exit 1; }
script=$1
shift
PL_TEST_STORE_URL=$PG_URL sh "$script" "$@"

#!/bin/sh
# Runs a cmocka unit test ($1) as TAP against a throwaway PostgreSQL cluster: the test reads
# the database from PL_TEST_STORE_URL. A clear TAP skip when the server is not installed.
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
out=$PG_DIR/unit.tap
PL_TEST_STORE_URL=$PG_URL CMOCKA_MESSAGE_OUTPUT=TAP "$1" >"$out" 2>&1
rc=$?
# cmocka writes a skip as "not ok N # SKIP name"; TAP's skip is an ok.
sed -e 's/^not ok \([0-9]*\) # SKIP \(.*\)/ok \1 - \2 # SKIP looks into SQLite'"'"'s file/' \
	-e 's/^# not ok - tests$/# failures above/' "$out"
exit $rc

#!/bin/sh
# parleyd after its store was damaged (G7): parties log about fifty statements, parleyd is
# killed (-9), something happens to its store, and it is started again. Whatever happened,
# it must never sign a checkpoint inconsistent with one it handed out: either it refuses to
# start, naming the size it holds and the size it published (or the damage it found), or it
# starts at a size no smaller than the one published, and every checkpoint handed out before
# is consistent with what it serves after logging more.
#
# Rows: what is done to the data directory while parleyd is down, and what must follow:
#   sizes  parleyd must refuse, naming both sizes (the store is consistent but behind)
#   any    refusing with a store message or starting without a fork are both right
#   gone   the published file itself deleted: parleyd must refuse, for it cannot tell
# shellcheck source=tests/integration/test_parleyd_lib.sh
. "$(dirname "$0")/test_parleyd_lib.sh"

ROWS='db-truncated db-flipped wal-flipped db-restored-without-wal wal-deleted published-deleted'

# What row $1 must lead to.
want_of() {
	case $1 in
	db-truncated | db-flipped) echo any ;;
	published-deleted) echo gone ;;
	*) echo sizes ;;
	esac
}

# Size of file $1 in bytes.
fsize() {
	wc -c <"$1" | tr -d ' '
}

# Flips (xor 0xff) the byte at offset $2 of file $1.
flip() {
	v=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	[ -n "$v" ] || return 1
	# shellcheck disable=SC2059 # the format is the octal escape of the flipped byte
	printf "\\$(printf %o $((255 - v)))" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc \
		2>/dev/null
}

# The largest tree size of a checkpoint acknowledged in ack file $1 (its second line).
published_size() {
	cut -d'|' -f2 "$1" | sort -n | tail -n 1
}

# Does to $DATA what row $1 says; the backup for its restore is $T/backup.db.
damage() {
	db=$DATA/parley.db
	case $1 in
	db-truncated)
		dd if="$db" of="$T/cut.db" bs=1024 count=$(($(fsize "$db") / 2048)) 2>/dev/null &&
			mv "$T/cut.db" "$db"
		;;
	db-flipped)
		n=$(fsize "$db")
		flip "$db" $((n / 2)) && flip "$db" $((n * 3 / 4)) && flip "$db" $((n - 100))
		;;
	wal-flipped)
		[ -s "$db-wal" ] && flip "$db-wal" $(($(fsize "$db-wal") * 3 / 4))
		;;
	db-restored-without-wal)
		cp "$T/backup.db" "$db" && rm -f "$db-wal" "$db-shm"
		;;
	wal-deleted)
		[ -s "$db-wal" ] && rm -f "$db-wal"
		;;
	published-deleted)
		rm "$DATA/published"
		;;
	esac
}

# Starts parleyd after the damage: 0 when it serves, 1 when it exited (status in $STATUS).
restart() {
	if start_server; then
		return 0
	fi
	i=0
	while [ $i -lt 100 ] && kill -0 "$PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$PID" 2>/dev/null
	wait "$PID"
	STATUS=$?
	PID=
	return 1
}

ok "a store with the scenario parties" setup_store
cp -R "$DATA" "$T/pristine"
for row in $ROWS; do
	want=$(want_of "$row")
	rm -rf "$DATA" "$T/acks" "$T/parleyd.log"
	cp -R "$T/pristine" "$DATA"
	: >"$T/acks"
	ok "$row: parleyd serve answers" start_server
	"$DRIVER" load "$URL" "$DATA" "$IDS" "$T/acks" 4 >"$T/load.out" 2>&1
	# A backup of the database file alone, taken while parleyd is stopped cleanly.
	stop_server TERM
	cp "$DATA/parley.db" "$T/backup.db"
	ok "$row: parleyd serve answers again" start_server
	"$DRIVER" load "$URL" "$DATA" "$IDS" "$T/acks" 5 >"$T/load.out" 2>&1
	published=$(published_size "$T/acks")
	ok "$row: about fifty records logged and acknowledged (size $published)" \
		[ "$(wc -l <"$T/acks")" -ge 50 ]
	stop_server KILL
	ok "$row: parleyd killed (-9), its store damaged" damage "$row"
	if restart; then
		echo "# $row: parleyd started again"
		sed 's/^/# parleyd: /' "$T/parleyd.log" | grep 'event=start'
		ok "$row: starting is right only where the damage may leave the log whole ($want)" \
			[ "$want" = any ]
		# Past the published size, then every checkpoint handed out must be consistent.
		"$DRIVER" load "$URL" "$DATA" "$IDS" "$T/acks" 3 >"$T/load.out" 2>&1
		drive verify-consistent "$URL" "$DATA" "$IDS" "$T/acks"
		stop_server TERM
	else
		echo "# $row: parleyd refused to start (exit $STATUS)"
		sed 's/^/# parleyd: /' "$T/parleyd.log" | grep 'level=error'
		ok "$row: parleyd serve exits non-zero" [ "$STATUS" -ne 0 ]
		if [ "$want" = sizes ]; then
			ok "$row: it names the published checkpoint $published and what is missing" \
				logged "but checkpoint $published (root "
			ok "$row: it names the size the store holds" logged "store holds "
			ok "$row: it says how to recover" logged "never delete published"
		elif [ "$want" = gone ]; then
			ok "$row: it says the file is missing and how to recover" \
				logged "published is missing, but this store was kept with it"
		else
			ok "$row: it says what is wrong with the store" logged "detail=\"store"
		fi
	fi
done
finish

/* The exchange's life cycle: init, open (the store held to what it signed), shutdown, close. */
#include <parley/exchange.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/key.h>
#include <parley/note.h>
#include <parley/record.h>
#include <parley/tlog.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

/* The default options: what 0 in struct pl_exchange_options stands for. Thread: any. */
void pl_exchange_options_default(struct pl_exchange_options *o)
{
	memset(o, 0, sizeof(*o));
	o->batch_max = PL_EXCHANGE_DEFAULT_BATCH_MAX;
	o->batch_age_us = PL_EXCHANGE_DEFAULT_BATCH_AGE_US;
	o->batch_idle_us = PL_EXCHANGE_DEFAULT_IDLE_US;
	o->time_tolerance_s = PL_EXCHANGE_DEFAULT_TIME_TOLERANCE;
	o->timer_interval_ms = PL_EXCHANGE_DEFAULT_TIMER_MS;
	o->payload_max = PL_EXCHANGE_DEFAULT_PAYLOAD_MAX;
	o->payload_retention_s = PL_EXCHANGE_DEFAULT_PAYLOAD_RETENTION;
	o->readers = PL_EXCHANGE_DEFAULT_READERS;
}

/*
 * Writes text plus a newline to a new file of the given mode.
 * Thread: the caller's of pl_exchange_init().
 */
static int ex_write_key(const char *dir, const char *file, const char *text, size_t len,
                        unsigned mode)
{
	char *path = pl__path_join(dir, file);
	int ret;

	if (!path)
		return PL_ENOMEM;
	ret = pl_key_save(path, text, len, mode);
	free(path);
	return ret;
}

/*
 * Creates an exchange in dir: its keys, its store and the empty tree's checkpoint, published.
 * Thread: the caller's, with no exchange open on dir.
 */
int pl_exchange_init_store(const char *dir, const char *origin, const char *url, struct pl_vkey *vk)
{
	char *loc;
	int ret;

	if (!dir || !url)
		return PL_EINVAL;
	ret = pl_store_locate(dir, url);
	if (ret)
		return ret;
	ret = pl_exchange_init(dir, origin, vk);
	if (ret) {
		/* Nothing of a failed init may send the next try to this database. */
		loc = pl__path_join(dir, PL_STORE_LOCATION_FILE);
		if (loc)
			unlink(loc);
		free(loc);
	}
	return ret;
}

int pl_exchange_init(const char *dir, const char *origin, struct pl_vkey *vk)
{
	struct pl_skey sk;
	struct pl_vkey pub;
	struct pl_buf text, cpnote;
	struct pl_checkpoint *cp = NULL;
	struct pl_store *s = NULL;
	char *kp = NULL, *vp = NULL, *pp = NULL;
	uint8_t empty[PL_HASH_BYTES];
	struct stat sb;
	int ret;

	memset(&sk, 0, sizeof(sk));
	pl_buf_init(&text, 1024);
	pl_buf_init(&cpnote, PL_CHECKPOINT_MAX_BYTES + 4096);
	if (!dir || !origin || !pl_record_origin_is_valid(origin, strlen(origin)))
		return PL_EINVAL;
	kp = pl__path_join(dir, PL_EXCHANGE_KEY_FILE);
	vp = pl__path_join(dir, PL_EXCHANGE_VKEY_FILE);
	pp = pl__path_join(dir, PL_EXCHANGE_PUBLISHED_FILE);
	cp = malloc(sizeof(*cp));
	if (!kp || !vp || !pp || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (pl_store_probe(dir) == 0 || stat(kp, &sb) == 0 || stat(vp, &sb) == 0 ||
	    stat(pp, &sb) == 0) {
		ret = PL_EEXIST;
		goto out;
	}
	ret = pl_key_generate(&sk, &pub, origin, PL_SIGTYPE_ED25519);
	if (ret)
		goto out;
	ret = pl_skey_format(&sk, &text);
	if (!ret)
		ret = ex_write_key(dir, PL_EXCHANGE_KEY_FILE, text.data, text.len, 0600);
	if (ret)
		goto out;
	pl_buf_reset(&text);
	ret = pl_vkey_format(&pub, &text);
	if (!ret)
		ret = ex_write_key(dir, PL_EXCHANGE_VKEY_FILE, text.data, text.len, 0644);
	if (!ret)
		ret = pl_store_create(dir, origin);
	if (ret)
		goto out;
	/* The empty tree's checkpoint, so that /checkpoint answers from the start. */
	pl_tlog_empty_hash(empty);
	ret = pl_checkpoint_set(cp, origin, 0, empty);
	if (!ret)
		ret = pl_checkpoint_sign(&cpnote, cp, &sk);
	/* What the exchange signed, remembered outside the store (pl_exchange_open()), and the
	 * store marked as kept with it. */
	if (!ret)
		ret = pl__published_create(dir, PL_EXCHANGE_PUBLISHED_FILE, cpnote.data,
		                           cpnote.len);
	if (!ret)
		ret = pl_store_open(&s, dir, true, NULL);
	if (!ret)
		ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_checkpoint_put(s, 0, cpnote.data, cpnote.len);
	if (!ret)
		ret = pl_store_published_mark(s);
	if (!ret)
		ret = pl_store_commit(s);
	if (ret)
		goto out;
	*vk = pub;
out:
	pl_store_close(s);
	if (text.data)
		sodium_memzero(text.data, text.len);
	pl_buf_release(&text);
	pl_buf_release(&cpnote);
	pl_skey_clear(&sk);
	free(cp);
	free(kp);
	free(vp);
	free(pp);
	return ret;
}

/*
 * Checks that the store is one consistent log before serving it: the latest
 * checkpoint is signed by our key, the record count and the stored hashes
 * match its size, the stored hashes give its root, and the newest records
 * hash to the stored leaves. Sets the published size and checkpoint.
 * Thread: open's.
 */
static int ex_check_store(struct pl_exchange *ex, struct pl_buf *err)
{
	struct pl_store *s = ex->w;
	struct pl_tlog_reader rd = pl_store_tlog_reader(s);
	struct pl_checkpoint *cp = NULL;
	struct pl_buf note, rec;
	uint64_t size, count, nhashes;
	uint8_t root[PL_HASH_BYTES];
	struct ex_anchor anchor;
	char why[EX_WHY_MAX];
	const char *bad = NULL;
	int ret;

	pl_buf_init(&note, PL_CHECKPOINT_MAX_BYTES + 4096);
	pl_buf_init(&rec, PL_RECORD_MAX_BYTES);
	cp = malloc(sizeof(*cp));
	if (!cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_checkpoint_get(s, PL_STORE_LATEST, &size, &note);
	if (!ret)
		ret = pl_store_record_count(s, &count);
	if (!ret)
		ret = pl_store_hashes_count(s, &nhashes);
	if (ret) {
		bad = "cannot read the log";
		goto out;
	}
	ret = PL_ESTORE;
	if (pl_checkpoint_open(cp, NULL, note.data, note.len, ex->origin, &ex->vkey, 1) != 0 ||
	    cp->size != size) {
		bad = "latest checkpoint does not verify with the log key";
		goto out;
	}
	if (count != size || nhashes != pl_tlog_stored_count(size)) {
		bad = "records or hashes do not match the latest checkpoint";
		goto out;
	}
	if (pl_tlog_tree_hash(&rd, size, root) != 0 ||
	    sodium_memcmp(root, cp->root, PL_HASH_BYTES) != 0) {
		bad = "stored hashes do not give the checkpoint's root";
		goto out;
	}
	/* The newest records, checked up to the root as reads check them (which remember it). */
	anchor.size = size;
	memcpy(anchor.root, cp->root, PL_HASH_BYTES);
	for (uint64_t i = size > EX_VERIFY_TAIL ? size - EX_VERIFY_TAIL : 0; i < size; i++) {
		struct pl_store_record meta;
		pl_buf_reset(&rec);
		if (pl_store_record_get(s, i, &meta, &rec) != 0) {
			bad = "cannot read a record";
			goto out;
		}
		ret = pl__ex_check_entry(ex, s, &anchor, i, meta.id, rec.data, rec.len);
		if (ret) {
			pl_exchange_last_error(ex, why, sizeof(why));
			bad = ret == PL_EDAMAGED ? why : "cannot check a record";
			ret = PL_ESTORE;
			goto out;
		}
	}
	ex->size = size;
	ex->checkpoint = pl_buf_detach(&note, &ex->checkpoint_len);
	ret = ex->checkpoint ? 0 : PL_ENOMEM;
	/* The newest cosigned checkpoint, if witnesses ever cosigned one. */
	if (!ret) {
		ret = pl_store_checkpoint_cosigned(s, &ex->cosigned_size, &note);
		if (!ret)
			ex->cosigned = pl_buf_detach(&note, &ex->cosigned_len);
		ret = ret == PL_ENOTFOUND ? 0 : ret ? ret : ex->cosigned ? 0 : PL_ENOMEM;
		if (ret)
			bad = "cannot read the cosigned checkpoint";
	}
out:
	pl_store_rollback(s);
	if (bad && err)
		(void)!pl_buf_addf(err, "store: %s%s%s", bad,
		                   ret == PL_ESTORE && *pl_store_errmsg(s) ? ": " : "",
		                   ret == PL_ESTORE ? pl_store_errmsg(s) : "");
	if (bad)
		ret = ret ? ret : PL_ESTORE;
	free(cp);
	pl_buf_release(&note);
	pl_buf_release(&rec);
	return ret;
}

/*
 * Appends the exchange's own note of the checkpoint cp (note[0..len), maybe cosigned) to out.
 * Thread: open's.
 */
static int ex_own_note(struct pl_exchange *ex, const char *note, size_t len, struct pl_buf *out)
{
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	int ret;

	/* Ed25519 is deterministic: signing the text again gives the very note first signed. */
	ret = cp ? pl_checkpoint_open(cp, NULL, note, len, ex->origin, &ex->vkey, 1) : PL_ENOMEM;
	if (!ret)
		ret = pl_checkpoint_sign(out, cp, &ex->key);
	free(cp);
	return ret;
}

/*
 * An exchange made before the published file existed: what it signed so far
 * is what its store holds, so the file at path is made from own (the note of
 * its latest checkpoint), the store marked as kept with it, and the file
 * opened. A marked store without the file is refused: it lost the file.
 * Thread: open's.
 */
static int ex_published_create(struct pl_exchange *ex, const char *path, const struct pl_buf *own,
                               struct pl_buf *err)
{
	bool marked = false;
	int ret;

	ret = pl_store_published_marked(ex->w, &marked);
	if (!ret && marked) {
		if (err)
			(void)!pl_buf_addf(err,
			                   "%s is missing, but this store was kept with "
			                   "it: the newest "
			                   "checkpoint the exchange signed is unknown, so "
			                   "it cannot tell "
			                   "whether its store (%llu records) lost records. "
			                   "Restore the data "
			                   "directory as a whole from a copy taken at one "
			                   "moment; never "
			                   "create or delete %s to force a start",
			                   path, (unsigned long long)ex->size,
			                   PL_EXCHANGE_PUBLISHED_FILE);
		ret = PL_ESTORE;
		goto out;
	}
	if (!ret)
		ret = pl__published_create(ex->dir, PL_EXCHANGE_PUBLISHED_FILE, own->data,
		                           own->len);
	if (!ret)
		ret = pl_store_published_mark(ex->w);
	if (!ret)
		ret = pl__published_open(ex->dir, PL_EXCHANGE_PUBLISHED_FILE, &ex->pubfd);
	if (ret && err)
		(void)!pl_buf_addf(err, "%s: cannot create it: %s", path, pl_strerror(ret));
	ex->pub_slot = 0;
out:
	return ret;
}

/*
 * Says in err why the published file at path could not be read (ret, from
 * pl__published_read()) and returns PL_EIO or PL_ESTORE. Thread: open's.
 */
static int ex_published_unreadable(const char *path, int ret, struct pl_buf *err)
{
	if (err)
		(void)!pl_buf_addf(
		        err,
		        "%s: %s: the newest checkpoint the exchange signed is unknown, so "
		        "it "
		        "cannot tell whether its store lost records; restore the data "
		        "directory "
		        "from a copy taken at one moment",
		        path,
		        ret == PL_EMALFORMED      ? "neither copy holds a checkpoint signed by the "
		                                    "log key (the file is damaged)"
		        : ret == PL_EINCONSISTENT ? "it holds two checkpoints of one size with "
		                                    "different roots"
		                                  : pl_strerror(ret));
	return ret == PL_EIO ? PL_EIO : PL_ESTORE;
}

/*
 * Checks that the store holds the tree pub says was signed: at least
 * pub->size records, its tree at that size giving pub->root. Else says in err
 * what it holds instead and returns PL_ESTORE. Thread: open's.
 */
static int ex_published_held(struct pl_exchange *ex, const struct pl__published *pub,
                             struct pl_buf *err)
{
	struct pl_tlog_reader rd = pl_store_tlog_reader(ex->w);
	uint8_t root[PL_HASH_BYTES];
	char want[PL_HASH_B64_LEN + 1], got[PL_HASH_B64_LEN + 1];
	int ret;

	pl_b64_encode(want, pub->root, PL_HASH_BYTES);
	if (ex->size < pub->size) {
		if (err)
			(void)!pl_buf_addf(
			        err,
			        "store holds %llu records but checkpoint %llu (root %s) was signed "
			        "and "
			        "published: %llu acknowledged records are missing (a lost or "
			        "damaged "
			        "%s-wal, or %s restored without its WAL). Restore the data "
			        "directory, "
			        "%s together with its %s-wal, from a copy taken at one moment at "
			        "or "
			        "after that checkpoint; never delete %s to force a start: the "
			        "exchange "
			        "would sign a second history and fork the log",
			        (unsigned long long)ex->size, (unsigned long long)pub->size, want,
			        (unsigned long long)(pub->size - ex->size), PL_EXCHANGE_DB_FILE,
			        PL_EXCHANGE_DB_FILE, PL_EXCHANGE_DB_FILE, PL_EXCHANGE_DB_FILE,
			        PL_EXCHANGE_PUBLISHED_FILE);
		ret = PL_ESTORE;
		goto out;
	}
	ret = pl_store_begin(ex->w);
	if (!ret)
		ret = pl_tlog_tree_hash(&rd, pub->size, root);
	pl_store_rollback(ex->w);
	if (!ret && sodium_memcmp(root, pub->root, PL_HASH_BYTES) != 0) {
		pl_b64_encode(got, root, PL_HASH_BYTES);
		if (err)
			(void)!pl_buf_addf(
			        err,
			        "store holds %llu records, but its tree at size %llu has root %s "
			        "while "
			        "checkpoint %llu (root %s) was signed and published: the store "
			        "holds "
			        "another history. Restore the data directory from a copy taken at "
			        "one "
			        "moment at or after that checkpoint; never delete %s to force a "
			        "start",
			        (unsigned long long)ex->size, (unsigned long long)pub->size, got,
			        (unsigned long long)pub->size, want, PL_EXCHANGE_PUBLISHED_FILE);
		ret = PL_ESTORE;
		goto out;
	}
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "store: cannot read its tree at size %llu: %s",
			                   (unsigned long long)pub->size, pl_store_errmsg(ex->w));
		ret = PL_ESTORE;
	}
out:
	return ret;
}

/*
 * Holds the store to what the exchange signed before (G7): the newest
 * checkpoint in the published file must be in the store (the store at least
 * that large, its tree at that size giving that root), or else the exchange
 * would sign a second history at sizes it already signed. An exchange made
 * before the file existed (its store not marked) gets one; a marked store
 * without the file is refused. Then brings the file up to the store's
 * latest checkpoint, which open is about to serve, and keeps it open for the
 * sequencer. After ex_check_store().
 * Thread: open's.
 */
static int ex_check_published(struct pl_exchange *ex, struct pl_buf *err)
{
	struct pl__published *pub = malloc(sizeof(*pub));
	char *path = pl__path_join(ex->dir, PL_EXCHANGE_PUBLISHED_FILE);
	struct pl_buf own;
	int ret;

	pl_buf_init(&own, PL__PUBLISHED_SLOT);
	if (!pub || !path) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = ex_own_note(ex, ex->checkpoint, ex->checkpoint_len, &own);
	if (ret)
		goto out;
	ret = pl__published_read(pub, path, ex->origin, &ex->vkey);
	if (ret == PL_ENOTFOUND) {
		ret = ex_published_create(ex, path, &own, err);
		goto out;
	}
	if (ret) {
		ret = ex_published_unreadable(path, ret, err);
		goto out;
	}
	ret = ex_published_held(ex, pub, err);
	if (ret)
		goto out;
	ex->pub_slot = pub->slot;
	ret = pl__published_open(ex->dir, PL_EXCHANGE_PUBLISHED_FILE, &ex->pubfd);
	/* The store is ahead (a commit whose checkpoint was never handed out): remember it now. */
	if (!ret && ex->size > pub->size) {
		ret = pl__published_write(ex->pubfd, 1 - ex->pub_slot, own.data, own.len);
		if (!ret)
			ret = pl__published_sync(ex->pubfd);
		if (!ret)
			ex->pub_slot = 1 - ex->pub_slot;
	}
	if (ret && err)
		(void)!pl_buf_addf(err, "%s: %s", path, pl_strerror(ret));
out:
	pl_buf_release(&own);
	free(pub);
	free(path);
	return ret;
}

/*
 * The exchange lock file's one rule, for the exchange (writer) and its
 * verifier (reader): see internal.h.
 * Thread: open's (the exchange's), or the verifier's.
 */
int pl__ex_lock_file(const char *dir, bool writer, const char *busy, int *fd, struct pl_buf *err)
{
	char *path = pl__path_join(dir, PL_EXCHANGE_LOCK_FILE);
	int ret = 0;

	*fd = -1;
	if (!path)
		return PL_ENOMEM;
	if (writer)
		*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	else
		*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		if (writer || errno != ENOENT) {
			ret = PL_EIO;
			if (err)
				(void)!pl_buf_addf(err, "%s: %s", path, strerror(errno));
		}
	} else if (flock(*fd, (writer ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
		ret = errno == EWOULDBLOCK ? PL_ESTATE : PL_EIO;
		if (err)
			(void)!pl_buf_addf(err, "%s: %s", path,
			                   ret == PL_ESTATE ? busy : strerror(errno));
	}
	free(path);
	return ret;
}

/* The options of an exchange being opened: the defaults for what opts leaves 0. Thread: open's. */
static void ex_options(struct pl_exchange *ex, const struct pl_exchange_options *opts)
{
	pl_exchange_options_default(&ex->o);
	if (opts) {
		struct pl_exchange_options d = ex->o;
		ex->o = *opts;
		if (!ex->o.batch_max)
			ex->o.batch_max = d.batch_max;
		if (!ex->o.batch_idle_us)
			ex->o.batch_idle_us = d.batch_idle_us;
		if (!ex->o.time_tolerance_s)
			ex->o.time_tolerance_s = d.time_tolerance_s;
		if (!ex->o.timer_interval_ms)
			ex->o.timer_interval_ms = d.timer_interval_ms;
		if (!ex->o.payload_max)
			ex->o.payload_max = d.payload_max;
		if (!ex->o.payload_retention_s)
			ex->o.payload_retention_s = d.payload_retention_s;
		if (!ex->o.readers)
			ex->o.readers = d.readers;
	}
	if (!ex->o.payload_unreferenced_max)
		ex->o.payload_unreferenced_max =
		        PL_EXCHANGE_UNREFERENCED_PER_PAYLOAD_MAX * ex->o.payload_max;
	if (ex->o.nlines > PL_EXCHANGE_LINES_MAX)
		ex->o.nlines = PL_EXCHANGE_LINES_MAX;
	/* Checks resume at the next due time from now; ex_lines_keep() moves it back to the first
	 * one missed while the exchange was closed, for a line it checked then. */
	for (size_t i = 0; i < ex->o.nlines; i++) {
		if (pl_line_next(&ex->o.lines[i], ex_now(ex), &ex->line_next[i]) != 0)
			ex->line_next[i] = INT64_MAX;
	}
}

#define EX_ALIVE_WALK_MAX 4096 /* records of its chain ex_last_alive() reads back at most */

/*
 * The time of the exchange's last record made while it served, in *t: back along its chain
 * from its head, past the register, revoke and index records that an operator's command
 * appends while it is closed, to the first other one (a check, missed, unanswered, available,
 * expire: made by the running exchange, which logs a check of every line it checks when due,
 * so it was running then). PL_ENOTFOUND when there is none within EX_ALIVE_WALK_MAX records.
 * Thread: open's.
 */
static int ex_last_alive(struct pl_exchange *ex, int64_t *t)
{
	struct pl_store_record meta;
	struct pl_record *h = malloc(sizeof(*h));
	uint64_t seq, idx;
	int ret;

	if (!h)
		return PL_ENOMEM;
	ret = pl_store_head_get(ex->w, PL_RECORD_EXCHANGE, &seq, &idx);
	for (unsigned n = 0; !ret; n++) {
		ret = n < EX_ALIVE_WALK_MAX ? pl__ex_load(ex->w, idx, h, &meta) : PL_ENOTFOUND;
		if (ret)
			break;
		if (h->kind != PL_KIND_REGISTER && h->kind != PL_KIND_REVOKE &&
		    h->kind != PL_KIND_INDEX) {
			*t = h->time;
			break;
		}
		if (!(h->has & PL_RECORD_HAS_PREV))
			ret = PL_ENOTFOUND;
		else
			ret = pl_store_record_find(ex->w, h->prev, &idx);
	}
	free(h);
	return ret;
}

/*
 * Keeps each configured line's definition in the store, so that a line later
 * taken out of the configuration can still be reported (pl_exchange_line()).
 * A line kept unchanged was checked when the exchange last ran: its next due
 * time moves back to the first after the exchange's last record, so that the
 * sequencer logs a `missed` for each due time the exchange was closed through.
 * Loads the zones of the lines checked at wall times of one first (says why
 * not in errdetail).
 * Thread: open's.
 */
static int ex_lines_keep(struct pl_exchange *ex, struct pl_buf *errdetail)
{
	struct pl_buf text, kept;
	int64_t alive = 0;
	bool has_alive = false;
	int ret = 0;

	if (ex->o.nlines == 0)
		return 0;
	/* The zones of lines checked at wall times of one: the next due time is found in it. */
	for (size_t i = 0; !ret && i < ex->o.nlines; i++) {
		const struct pl_line *l = &ex->o.lines[i];
		const char *why = NULL;
		if (!pl_line_is_zoned(l))
			continue;
		ret = pl_tz_load(&ex->line_tz[i], l->zone, &why);
		if (ret && errdetail && ret == PL_ENOTFOUND)
			(void)!pl_buf_addf(errdetail, "line %s: no time zone %s in %s", l->name,
			                   l->zone, PL_TZ_DIR);
		else if (ret && errdetail)
			(void)!pl_buf_addf(errdetail, "line %s: time zone %s: %s", l->name, l->zone,
			                   why ? why : pl_strerror(ret));
		if (!ret && pl_line_next_in(l, ex->line_tz[i], ex_now(ex), &ex->line_next[i]) != 0)
			ex->line_next[i] = INT64_MAX;
	}
	if (ret)
		return ret;
	pl_buf_init(&text, PL_LINE_TEXT_MAX + 1);
	pl_buf_init(&kept, PL_LINE_TEXT_MAX + 1);
	ret = pl_store_begin(ex->w);
	if (!ret) {
		ret = ex_last_alive(ex, &alive);
		has_alive = ret == 0;
		ret = ret == PL_ENOTFOUND ? 0 : ret;
	}
	for (size_t i = 0; !ret && i < ex->o.nlines; i++) {
		const struct pl_line *l = &ex->o.lines[i];
		int64_t first;
		pl_buf_reset(&text);
		pl_buf_reset(&kept);
		ret = pl_line_format(l, &text);
		if (!ret)
			ret = pl_store_line_get(ex->w, l->name, &kept);
		if (ret == PL_ENOTFOUND) {
			ret = 0; /* a new line: nothing was due before */
		} else if (!ret && has_alive && kept.len == text.len &&
		           memcmp(kept.data, text.data, text.len) == 0 &&
		           pl_line_next_in(l, ex->line_tz[i], alive, &first) == 0 &&
		           first < ex->line_next[i]) {
			/* Unchanged since the exchange last ran: what fell due since is missed. */
			ex->line_next[i] = first;
		}
		if (!ret)
			ret = pl_store_line_put(ex->w, l->name, text.data);
	}
	if (!ret)
		ret = pl_store_commit(ex->w);
	else
		pl_store_rollback(ex->w);
	pl_buf_release(&text);
	pl_buf_release(&kept);
	return ret;
}

/*
 * Readies what close undoes: no files held yet, the locks and condition
 * variables made. Returns 0 or PL_ENOMEM. Thread: open's.
 */
static int ex_sync_init(struct pl_exchange *ex)
{
	int ret = 0;

	ex->lockfd = -1;
	ex->pubfd = -1;
	pthread_mutex_init(&ex->sync_mu, NULL);
	pthread_mutex_init(&ex->pool_mu, NULL);
	pthread_mutex_init(&ex->mu, NULL);
	pthread_mutex_init(&ex->shut_mu, NULL);
	pthread_mutex_init(&ex->st_mu, NULL);
	pthread_mutex_init(&ex->err_mu, NULL);
	pthread_mutex_init(&ex->head_mu, NULL);
	pthread_mutex_init(&ex->vf_mu, NULL);
	pthread_rwlock_init(&ex->dir_lock, NULL);
	pthread_rwlock_init(&ex->cfg_lock, NULL);
	if (pl__ex_cond_init(&ex->pool_cv) || pl__ex_cond_init(&ex->q_cv) ||
	    pl__ex_cond_init(&ex->sync_cv) || pl__ex_cond_init(&ex->timer_cv) ||
	    pl__ex_cond_init(&ex->size_cv) || pl__ex_cond_init(&ex->vf_edge_cv))
		ret = PL_ENOMEM;
	return ret;
}

/*
 * Reads the store's origin and the log key (from kp; the public key at vp,
 * when there, must be its), which must agree. Says why not in errdetail.
 * Thread: open's.
 */
static int ex_open_key(struct pl_exchange *ex, const char *kp, const char *vp,
                       struct pl_buf *errdetail)
{
	char origin[PL_ORIGIN_MAX + 1];
	struct pl_vkey filevk;
	int ret;

	ret = pl_store_origin(ex->w, origin);
	if (ret)
		goto out;
	if (!pl_record_origin_is_valid(origin, strlen(origin))) {
		ret = PL_ESTORE;
		if (errdetail)
			(void)!pl_buf_addf(errdetail, "store: origin is not valid");
		goto out;
	}
	snprintf(ex->origin, sizeof(ex->origin), "%s", origin);
	ret = pl_skey_load(&ex->key, kp);
	if (ret) {
		if (errdetail)
			(void)!pl_buf_addf(errdetail, "%s: %s", PL_EXCHANGE_KEY_FILE,
			                   pl_strerror(ret));
		goto out;
	}
	pl_skey_public(&ex->key, &ex->vkey);
	if (strcmp(ex->vkey.name, ex->origin) != 0 ||
	    (pl_vkey_load(&filevk, vp) == 0 && !pl_vkey_equal(&filevk, &ex->vkey))) {
		ret = PL_EKEY;
		if (errdetail)
			(void)!pl_buf_addf(errdetail,
			                   "log key does not match the store's origin or %s",
			                   PL_EXCHANGE_VKEY_FILE);
		goto out;
	}
out:
	return ret;
}

/* Opens the pool of o.readers read connections. Thread: open's. */
static int ex_open_readers(struct pl_exchange *ex, const char *dir, struct pl_buf *errdetail)
{
	int ret = 0;

	ex->pool = calloc(ex->o.readers, sizeof(*ex->pool));
	ex->free_stores = calloc(ex->o.readers, sizeof(*ex->free_stores));
	if (!ex->pool || !ex->free_stores) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ex->o.readers; i++) {
		ret = pl_store_open(&ex->pool[i], dir, false, errdetail);
		if (ret)
			goto out;
		ex->npool++;
		ex->free_stores[ex->nfree++] = ex->pool[i];
	}
out:
	return ret;
}

/*
 * Opens the exchange in dir, checks its store against what it signed, and starts its
 * threads. Thread: the caller's; the exchange's threads start here.
 */
int pl_exchange_open(struct pl_exchange **out, const char *dir,
                     const struct pl_exchange_options *opts, struct pl_buf *errdetail)
{
	struct pl_exchange *ex = NULL;
	char *kp = NULL, *vp = NULL;
	int ret;

	if (!out || !dir)
		return PL_EINVAL;
	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return PL_ENOMEM;
	ret = ex_sync_init(ex);
	if (ret)
		goto fail;
	ex_options(ex, opts);
	pl__ex_metrics_init(ex);
	ex->dir = strdup(dir);
	kp = pl__path_join(dir, PL_EXCHANGE_KEY_FILE);
	vp = pl__path_join(dir, PL_EXCHANGE_VKEY_FILE);
	if (!ex->dir || !kp || !vp) {
		ret = PL_ENOMEM;
		goto fail;
	}
	ret = pl_store_probe(dir);
	if (!ret)
		/* so that a second process (a `parleyd party add` while `parleyd serve` runs)
		 * cannot append behind the sequencer's back */
		ret = pl__ex_lock_file(ex->dir, true, "another process has the exchange open",
		                       &ex->lockfd, errdetail);
	if (!ret)
		ret = pl_store_open(&ex->w, dir, true, errdetail);
	if (ret)
		goto fail;
	ret = ex_open_key(ex, kp, vp, errdetail);
	if (!ret)
		ret = ex_check_store(ex, errdetail);
	if (!ret)
		ret = ex_check_published(ex, errdetail);
	if (!ret)
		ret = pl__ex_dir_load(ex, ex->w);
	if (!ret) {
		ret = pl__ex_tindex_open(ex);
		if (ret && errdetail)
			(void)!pl_buf_addf(errdetail, "store: cannot open the thread index: %s",
			                   pl_store_errmsg(ex->w));
	}
	if (!ret)
		ret = ex_lines_keep(ex, errdetail);
	if (!ret)
		ret = ex_open_readers(ex, dir, errdetail);
	if (ret)
		goto fail;
	/* From here on the sequencer syncs each commit itself (ex_durable()). */
	ret = pl_store_sequencer_start(ex->w);
	if (ret) {
		if (errdetail)
			(void)!pl_buf_adds(errdetail, pl_store_errmsg(ex->w));
		goto fail;
	}
	ret = pl__ex_start_threads(ex);
	if (ret)
		goto fail;
	*out = ex;
	ex = NULL;
	ret = 0;
fail:
	free(kp);
	free(vp);
	pl_exchange_close(ex);
	return ret;
}

/*
 * Stops the threads after the queued batches, the store's last upkeep, and wakes the long
 * polls. Thread: any, once or more (a signal-watching one too); never one of the exchange's
 * own.
 */
void pl_exchange_shutdown(struct pl_exchange *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->shut_mu);
	if (!ex->shut) {
		pthread_mutex_lock(&ex->mu);
		ex->stopping = true;
		pthread_cond_broadcast(&ex->q_cv);
		pthread_cond_broadcast(&ex->timer_cv);
		pthread_mutex_unlock(&ex->mu);
		if (ex->timer_started)
			pthread_join(ex->timer_thread, NULL);
		if (ex->seq_started)
			pthread_join(ex->seq_thread, NULL);
		if (ex->sync_started) {
			pthread_mutex_lock(&ex->sync_mu);
			ex->sync_stop = true;
			pthread_cond_broadcast(&ex->sync_cv);
			pthread_mutex_unlock(&ex->sync_mu);
			pthread_join(ex->sync_thread, NULL);
		}
		ex->timer_started = ex->seq_started = ex->sync_started = false;
		/* No batch follows: the store's last upkeep. */
		if (ex->w)
			(void)!pl_store_maintain(ex->w, true);
		pthread_mutex_lock(&ex->st_mu);
		ex->shut = true;
		pthread_cond_broadcast(&ex->size_cv);
		pthread_mutex_unlock(&ex->st_mu);
	}
	pthread_mutex_unlock(&ex->shut_mu);
}

/*
 * Shuts the exchange down and frees it; NULL is a no-op.
 * Thread: the owner's, once no other thread uses ex.
 */
void pl_exchange_close(struct pl_exchange *ex)
{
	if (!ex)
		return;
	pl_exchange_shutdown(ex);
	for (size_t i = 0; i < ex->npool; i++)
		pl_store_close(ex->pool[i]);
	free(ex->pool);
	free(ex->free_stores);
	pl_tindex_free(ex->tindex);
	pl_store_close(ex->w);
	pl_skey_clear(&ex->key);
	free(ex->keys);
	free(ex->members);
	free(ex->checkpoint);
	free(ex->cosigned);
	free(ex->dir);
	if (ex->pubfd >= 0)
		close(ex->pubfd);
	if (ex->lockfd >= 0)
		close(ex->lockfd); /* releases the lock */
	pthread_cond_destroy(&ex->pool_cv);
	pthread_cond_destroy(&ex->q_cv);
	pthread_cond_destroy(&ex->timer_cv);
	pthread_cond_destroy(&ex->size_cv);
	pthread_cond_destroy(&ex->sync_cv);
	pthread_mutex_destroy(&ex->sync_mu);
	pthread_mutex_destroy(&ex->pool_mu);
	pthread_mutex_destroy(&ex->mu);
	pthread_mutex_destroy(&ex->shut_mu);
	pthread_mutex_destroy(&ex->st_mu);
	pthread_mutex_destroy(&ex->err_mu);
	pthread_mutex_destroy(&ex->head_mu);
	pthread_mutex_destroy(&ex->vf_mu);
	pthread_cond_destroy(&ex->vf_edge_cv);
	pthread_rwlock_destroy(&ex->dir_lock);
	pthread_rwlock_destroy(&ex->cfg_lock);
	free(ex->heads);
	for (size_t i = 0; i < PL__ARRAY_LEN(ex->vf_tiles); i++)
		free(ex->vf_tiles[i]);
	free(ex->vf_edge_hashes);
	for (size_t i = 0; i < PL_EXCHANGE_LINES_MAX; i++)
		pl_tz_free(ex->line_tz[i]);
	free(ex);
}

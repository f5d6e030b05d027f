/* The SQLite store's sequencer side: deferred sync and the WAL's upkeep (its checkpointer). */
#include "store_pg.h"
#include "store_sqlite.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define STORE_WAL_FRAMES 1000 /* WAL pages (4 MiB) that start copying the WAL into the database */

/*
 * A sequencer's WAL upkeep (pl_store_sequencer_start()): the checkpointer
 * thread with its own connection, and where the copy is (under mu).
 */
struct store_tend {
	struct pl_store *ck;
	pthread_t thread;
	bool started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum {
		STORE_CK_IDLE,
		STORE_CK_BULK, /* the checkpointer is copying the WAL */
		STORE_CK_TAIL, /* the sequencer copies what was appended meanwhile */
	} state;
	int err; /* the checkpointer's last failure, for pl_store_maintain() */
	char errmsg[PL_STORE_ERRMSG_MAX];
};

/* Records the WAL's size after each commit, so the owner can checkpoint it in the background. */
static int store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct pl_store *s = arg;

	(void)db;
	(void)name;
	s->wal_frames = frames;
	return SQLITE_OK;
}

/* Copies what it can of the WAL into the database without blocking the writer or readers. */
static int store_checkpoint(struct pl_store *s)
{
	int rc = sqlite3_wal_checkpoint_v2(s->q.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	/* BUSY: another checkpoint or a reader is in the way; the next one will catch up. */
	if (rc == SQLITE_OK || rc == SQLITE_BUSY)
		return 0;
	return pl__sql_fail(&s->q, "wal_checkpoint", rc);
}

/*
 * Copies the WAL into the database in the background, so that the
 * sequencer's commits never wait for it (the copy syncs the database file).
 */
static void *store_checkpointer(void *arg)
{
	struct store_tend *t = arg;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		int ret;
		while (t->state != STORE_CK_BULK && !t->stop)
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		ret = store_checkpoint(t->ck);
		pthread_mutex_lock(&t->mu);
		if (ret) {
			t->err = ret;
			snprintf(t->errmsg, sizeof(t->errmsg), "%s", t->ck->q.errmsg);
		}
		t->state = STORE_CK_TAIL;
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Stops the checkpointer thread, frees the upkeep and returns its connection (NULL: none). */
struct pl_store *pl__store_tend_stop(struct pl_store *s)
{
	struct store_tend *t = s->tend;
	struct pl_store *ck;

	if (!t)
		return NULL;
	if (t->started) {
		pthread_mutex_lock(&t->mu);
		t->stop = true;
		pthread_cond_broadcast(&t->cv);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->thread, NULL);
	}
	ck = t->ck;
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
	s->tend = NULL;
	return ck;
}

int pl_store_sequencer_start(struct pl_store *s)
{
	PL__STORE_PG(s, pl__store_pg_sequencer_start(s));
	struct store_tend *t;
	int ret;

	if (!s || !s->writer || s->tend)
		return PL_EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return PL_ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	s->tend = t;
	/* The checkpointer's own connection: a copy never waits for the sequencer's. */
	ret = pl_store_open(&t->ck, s->dir, true, NULL) ? PL_ESTORE : 0;
	if (ret)
		pl__sql_bad(&s->q, "store: cannot open the checkpointer");
	if (!ret) {
		/*
		 * A WAL hook of our own replaces SQLite's automatic checkpoints (which
		 * are themselves a WAL hook): commits no longer copy the WAL, and the
		 * hook reports the WAL's size for pl_store_maintain(). Never call
		 * sqlite3_wal_autocheckpoint() here: it would silently replace this
		 * hook, the size would stay 0, and the WAL would grow without bound.
		 */
		sqlite3_wal_hook(s->q.db, store_wal_hook, s);
		/* Commits write the WAL without syncing it: pl_store_sync() does. */
		ret = pl__sql_script(&s->q, "PRAGMA synchronous=NORMAL;", "synchronous");
	}
	if (!ret && pthread_create(&t->thread, NULL, store_checkpointer, t) != 0)
		ret = PL_ENOMEM;
	if (ret) {
		sqlite3_wal_hook(s->q.db, NULL, NULL);
		pl_store_close(pl__store_tend_stop(s));
	} else {
		t->started = true;
	}
	return ret;
}

int pl_store_sync(struct pl_store *s)
{
	PL__STORE_PG(s, pl__store_pg_sync(s));
	sqlite3_file *f = NULL;
	int rc;

	/*
	 * The WAL as SQLite itself holds it open (in WAL mode the journal pointer is
	 * the WAL), synced as a synchronous=FULL commit would have synced it.
	 */
	rc = sqlite3_file_control(s->q.db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
	if (rc == SQLITE_OK && (!f || !f->pMethods))
		rc = SQLITE_MISUSE;
	if (rc == SQLITE_OK)
		rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	return rc == SQLITE_OK ? 0 : pl__sql_fail(&s->q, "sync", rc);
}

/*
 * Keeps the WAL short and its file rewritten in place. SQLite starts the WAL
 * again from its beginning only once every frame in it is in the database; a
 * checkpoint beside a busy sequencer rarely catches up, so the WAL would grow
 * without end and every commit would append to the file, its fdatasync also
 * recording the file's new size (about twice the cost of overwriting). So,
 * once the WAL holds STORE_WAL_FRAMES pages, the checkpointer copies the bulk
 * in the background and then the sequencer, between two batches, copies the
 * few frames appended meanwhile: the next batch starts the WAL again. Below
 * that size a call costs one comparison.
 */
/* The last upkeep: stops the checkpointer and copies the WAL in once more on its connection. */
static int store_tend_finish(struct pl_store *s)
{
	struct pl_store *ck = pl__store_tend_stop(s);
	int ret = store_checkpoint(ck);

	if (ret)
		pl__sql_bad(&s->q, "%s", ck->q.errmsg);
	pl_store_close(ck);
	return ret;
}

int pl_store_maintain(struct pl_store *s, bool last)
{
	PL__STORE_PG(s, pl__store_pg_maintain(s, last));
	struct store_tend *t = s->tend;
	bool tail;
	int ret = 0, r;

	/* Below the threshold a call costs a comparison: it runs once per batch. */
	if (!t || (!last && s->wal_frames < STORE_WAL_FRAMES))
		goto out;
	if (last) {
		ret = store_tend_finish(s);
		goto out;
	}
	pthread_mutex_lock(&t->mu);
	tail = t->state == STORE_CK_TAIL;
	if (t->state == STORE_CK_IDLE) {
		t->state = STORE_CK_BULK;
		pthread_cond_signal(&t->cv);
	} else if (tail) {
		t->state = STORE_CK_IDLE;
		ret = t->err;
		if (ret)
			pl__sql_bad(&s->q, "%s", t->errmsg);
		t->err = 0;
	}
	pthread_mutex_unlock(&t->mu);
	if (tail) {
		r = store_checkpoint(s);
		ret = ret ? ret : r;
	}
out:
	return ret;
}

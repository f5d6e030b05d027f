/* The SQLite backend of the store, shared by its two files: store.c and store_seq.c. */
#ifndef PARLEY_STORE_SQLITE_H
#define PARLEY_STORE_SQLITE_H

#include <stdbool.h>

#include "sqlite.h"
#include "store.h"

struct store_tend;

/* One connection of the SQLite backend. */
struct pl_store {
	struct pl__sql q; /* the connection, its statements (store_sql) and its errors */
	bool writer;
	char *dir;      /* the data directory, for the checkpointer's connection */
	int wal_frames; /* WAL size after the last commit (the WAL hook's report) */
	struct store_tend *tend;
};

/*
 * Stops a sequencer's upkeep (store_seq.c): joins the checkpointer thread,
 * frees what it kept and returns its connection for the caller to close
 * (NULL when s had none).
 */
struct pl_store *pl__store_tend_stop(struct pl_store *s);

#endif

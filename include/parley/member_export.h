/* A member's export of a dossier: the member session as the dossier's source, the subject and the
 * disclosures resolved, the evidence gathered, built and verified before it is handed out. */
#ifndef PARLEY_MEMBER_EXPORT_H
#define PARLEY_MEMBER_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/dossier.h>
#include <parley/session.h>

/* One export: set what is asked, run pl_member_export(), read what it made, release it. */
struct pl_member_export {
	/* Asked: */
	const char *subject;         /* an id or unique prefix; a record acting on another
	                                names the thread of the one it acts on */
	const char *const *disclose; /* records whose content to disclose (ids or prefixes) */
	size_t ndisclose;            /* at most PL_DOSSIER_MAX_DISCLOSURES */
	uint64_t wait_ms;            /* how long to wait for a checkpoint covering the subject */
	uint64_t at;                 /* the size of the checkpoint to use; 0: the newest */
	void (*waiting)(void *ctx, uint64_t covering, uint64_t size); /* said once, or NULL */
	void *ctx;
	/* Made: */
	struct pl_session_record head; /* the thread's subject, verified */
	struct pl_buf json;            /* the dossier, verified with the pinned log key */
	struct pl_dossier_export_info info;
	size_t ndisclosed;
	/* Private to the export: */
	struct pl_dossier_export *x;
	struct pl_dossier_disclosure disc[PL_DOSSIER_MAX_DISCLOSURES];
	uint8_t *plain[PL_DOSSIER_MAX_DISCLOSURES];
};

/*
 * Exports the dossier of e->subject through session s (docs/dossier.md):
 * resolves the subject, gathers the evidence from the exchange
 * (pl_dossier_export_collect(), with a checkpoint that covers the subject,
 * polled for at most e->wait_ms, or the one of tree size e->at, taken from
 * the subject's tlog-proof at that size), adds each disclosure (a record of the
 * dossier that seals content this party can read: the opened copy, or the
 * payload fetched and checked against its commitment), builds the dossier
 * and verifies it with the pinned log key. Fails as every pl_session_* call
 * does: a fetch the exchange refused or that does not hold is said as the
 * session says it. Release e in any case; it wipes the disclosed contents
 * and the dossier, which holds them.
 */
int pl_member_export(struct pl_session *s, struct pl_member_export *e) PL_WUR;

/* Frees and wipes what e holds; safe on a zeroed one. */
void pl_member_export_release(struct pl_member_export *e);

#endif

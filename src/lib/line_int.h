/* What the line report's two sources (the exchange, a dossier) share inside the library. */
#ifndef PARLEY_LINE_INT_H
#define PARLEY_LINE_INT_H

#include <stdint.h>

#include <parley/line_report.h>
#include <parley/record.h>

/*
 * Appends to lr->v the summary of one judged check or missed c at log index
 * `index` (its id in hex), with the ends' outcomes (PL_LINE_PENDING for a
 * missed). PL_ETOOBIG past PL_LINE_REPORT_CHECKS_MAX or out of memory.
 */
int pl__line_report_keep(struct pl_line_report *lr, uint64_t index,
                         const char hex[static PL_RECORD_ID_HEX_LEN + 1], const struct pl_record *c,
                         const enum pl_line_outcome out[static 2]);

#endif

#ifndef SEGEXPORT_NSCOUNT_H
#define SEGEXPORT_NSCOUNT_H
/* exportedProfileByNamespaceCounter for rows built without a merged json-c
 * profile (the raw rows of src/export.c): the namespaces come as a list of
 * names separated by '\n' (see se_scan_id_namespaces).
 *
 * Ownership: the se_nscount belongs to the caller (free with
 * se_nscount_free); it keeps up to 32 distinct lists, each with a stand-in
 * identityMap built once.  Failures: out of memory only, as -1 / false. */
#include <stdbool.h>
#include <stddef.h>
#include "jobstate.h"

typedef struct se_nscount se_nscount;

se_nscount *se_nscount_new(void);         /* NULL on out of memory */
void se_nscount_free(se_nscount *n);      /* accepts NULL */

/* Counts one row whose merged identityMap holds exactly the namespaces of
 * names[0..len), in that order, each a non-empty array: what
 * se_jobstate_count_row counts for it.  0, or -1 on out of memory. */
int se_nscount_row(se_nscount *n, se_jobstate *js, const char *names, size_t len);

/* The distinct names of names[0..len) (first appearance kept) into *out, a
 * buffer of *cap bytes grown as needed (caller frees), *outlen bytes.  True
 * when every one is already a key of js's namespace counter, so that counting
 * them (se_nscount_row) cannot depend on their order.  False otherwise, or on
 * out of memory. */
bool se_nscount_known(const se_jobstate *js, const char *names, size_t len, char **out,
                      size_t *cap, size_t *outlen);

#endif

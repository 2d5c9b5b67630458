#ifndef SEGEXPORT_MERGEPOLICY_H
#define SEGEXPORT_MERGEPOLICY_H
/* Merge policies: the built-in timestampOrdered-none-mp (version 1) plus those
 * read from --merge-policies FILE (a JSON array of AEP merge policy objects, or
 * the API's {"children":[...]} list). */
#include <stddef.h>

typedef enum { SE_ATTR_TIMESTAMP_ORDERED, SE_ATTR_DATASET_PRECEDENCE } se_attr_merge;
typedef enum { SE_GRAPH_NONE, SE_GRAPH_PDG } se_graph;

typedef struct se_mpolicy {
    char *id;
    int version;
    se_attr_merge attr;
    char **order;      /* dataSetPrecedence: dataset ids, highest priority first */
    size_t norder;
    se_graph graph;
} se_mpolicy;

typedef struct se_mp_registry se_mp_registry;

/* A registry holding only the built-in policy.  NULL on out of memory. */
se_mp_registry *se_mp_registry_new(void);
void se_mp_registry_free(se_mp_registry *reg); /* accepts NULL */

/* Adds the policies of FILE.  Each object needs "id" (string) and may have
 * "version" (integer, default 1), "attributeMerge":{"type":"timestampOrdered"|
 * "dataSetPrecedence","order":[...]}, "identityGraph":{"type":"none"|"pdg"}.
 * Returns 0, or -1 with a one-line message in err naming the file and the JSON
 * path ("policies.json: [2].attributeMerge.type: ..."). */
int se_mp_registry_load(se_mp_registry *reg, const char *path, char *err, size_t errlen);

/* As se_mp_registry_load, from text[0..len); name prefixes the messages. */
int se_mp_registry_parse(se_mp_registry *reg, const char *text, size_t len, const char *name,
                         char *err, size_t errlen);

/* The policy with that id and version, or NULL.  Owned by the registry. */
const se_mpolicy *se_mp_find(const se_mp_registry *reg, const char *id, int version);

/* SPEC §4: the highest version with that id (a mergePolicy without
 * "version"), or NULL.  Owned by the registry. */
const se_mpolicy *se_mp_find_latest(const se_mp_registry *reg, const char *id);

#endif

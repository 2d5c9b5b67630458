#ifndef SEGEXPORT_RECFACTS_H
#define SEGEXPORT_RECFACTS_H
/* The facts of one record read straight from its tape (SPEC §3): kind,
 * profile key, ingest time, datasetId, event time, update time - exactly as
 * se_record_parse reads them from the normalized json-c tree (the xdm:
 * spellings and duplicate keys resolved alike), without building the tree. */
#include <stddef.h>
#include "record.h"
#include "idgraph.h"
#include "tape.h"

/* Fills rec's kind, key, dataset_id and times from tp (a record's tape, its
 * top-level value an object); rec->obj is left alone.  0, or -1 with the
 * bad-record reason in err ("no identity", "invalid
 * _acp_system_metadata.ingestTime", "invalid timestamp", "out of memory");
 * what was filled in is then freed by se_record_clear. */
int se_tape_facts(const se_tape *tp, se_record *rec, char *err, size_t errlen);

/* Space for keys: p[len..cap) is free.  A caller parsing many records
 * (the engine's prep: one per chunk) saves an allocation per record. */
typedef struct se_keyspace {
    char *p;
    size_t len, cap;
} se_keyspace;

/* se_tape_facts, the key's block (and dataset_id in it) taken from ks when
 * it fits there (rec->key_borrowed: valid while ks's bytes are), else
 * malloc'd.  ks may be NULL. */
int se_tape_facts_in(const se_tape *tp, se_record *rec, se_keyspace *ks, char *err,
                     size_t errlen);

/* se_key_join (record.h) with room more bytes after the key's NUL in the
 * same block (*len, when not NULL, the key's length): se_tape_facts keeps
 * dataset_id there, one block a record, and se_record_clear knows a
 * dataset_id at key + strlen(key) + 1 is part of the key's block.  The block
 * comes from ks when it fits there (*borrowed), else from malloc.  Every
 * record's key comes from here. */
char *se_key_join_room(se_keyspace *ks, const char *ns, size_t nsn, const char *id, size_t idn,
                       size_t room, size_t *len, bool *borrowed);

/* The identities se_ident_collect reads from the record's normalized
 * identityMap, from its tape, in document order: *v grows as needed (*cap
 * its size); *key the index of the key identity (SPEC §3).  Strings point
 * into the record's text, or into *buf (grown to the text's length; *bufcap
 * its size) for those with escapes: both must outlive *v's use.  Returns
 * their number (0: none), -1 on out of memory, -2 when not sure (both
 * spellings of identityMap: read the tree). */
long se_tape_idents(const se_tape *tp, se_ident **v, size_t *cap, size_t *key, char **buf,
                    size_t *bufcap);

#endif

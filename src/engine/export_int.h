#ifndef SEGEXPORT_EXPORT_INT_H
#define SEGEXPORT_EXPORT_INT_H
/* Inside the export engine: the state of one job's pass, shared by the
 * driver (export.c: input, grouping, batches) and the assembly of a profile
 * (assemble.c: merge, filters, evaluation, rows).  See docs/record-path.md. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "batch.h"
#include "export.h"
#include "groupcheck.h"
#include "idgraph.h"
#include "mergetape.h"
#include "profile.h"
#include "project.h"
#include "record.h"
#include "tape.h"

typedef struct ctx {
    const se_export_params *ep;
    const se_job *job;
    se_jobstate *js;
    se_batch **batches;
    size_t nbatches;
    se_proj *proj, *evproj;
    bool *qual;                      /* per segment: the profile qualifies */
    se_groupcheck *seen;
    char *prev_key;                  /* --keyed: the previous group's key */
    bool not_mine;                   /* --shard: the current line's bad record is another shard's */
    bool failed;
    char why[1024];
    uint64_t in_bytes;               /* input bytes read, for progress */
    se_rparser *rp;                  /* the cold path: a line prep could not take */
    bool eval;                       /* segment evaluation: the job asks, definitions given */
    bool seg_prefilter;              /* a profile no fragment of which holds an entry
                                      * for a wanted segment is dropped unmerged */
    bool pdg;                        /* identityGraph pdg, groups not checked yet: count identities */
    se_idguard guard;                /* its distinct identities, up to the limit */
    se_ident *ids;                   /* a record's identities, for the guard */
    size_t ids_cap;

    /* The current group: its records as text + tape + facts.  A record's
     * text and tokens point into the chunk it came in until that chunk goes
     * away; then they are copied (own[i]). */
    bool in_group;
    char *key;
    uint64_t key_h;                  /* key_hash (export.c) of key */
    size_t key_cap;
    se_grec *frags, *events;
    bool *frag_own, *event_own;
    size_t nfrags, nevents, cap_frags, cap_events;

    /* The merged profile's members a projected job reads (keep.n > 0), or
     * every member (the whole profile, segment evaluation). */
    se_mt_keep keep;

    /* Assembly's buffers, kept from profile to profile. */
    char *row, *mtext, *evrow;
    size_t row_len, row_cap, mlen, mcap, evrow_len, evrow_cap;
    se_tape mtape;                   /* the merged text's tape */
    uint32_t *order;                 /* events in (timestamp, seq) order */
    size_t order_cap;
    char *sbuf;                      /* unescaped strings */
    size_t sbuf_cap;
    const se_tape **evtapes;         /* segment evaluation: the events in order */
    size_t evtapes_cap;
    bool *match;                     /* per definition: it matched */
    char *etext;                     /* the profile with its evaluated memberships */
    size_t elen, ecap;
    se_tape etape;
    se_profile tprof;                /* the tree path (assemble.c) */
    json_object **evobjs;
    size_t evcap;
} ctx;

/* Fails the job (the first failure wins). */
void se_x_fail(ctx *c, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void se_x_oom(ctx *c);
int se_x_write_row(ctx *c, size_t b, const char *s, size_t len);

/* se_record.seghint: whether the fragment holds an entry for a wanted
 * segment, answered by prep when c->seg_prefilter (se_x_frag_mentions). */
enum { SE_SEGHINT_UNKNOWN = 0, SE_SEGHINT_NO = 1, SE_SEGHINT_YES = 2 };
bool se_x_frag_mentions(const ctx *c, const se_tape *tp, uint32_t segm);

/* Assembles the finished group (c->frags, c->events), filters it and writes
 * its row(s) (assemble.c). */
void se_x_assemble(ctx *c);
void se_x_assemble_free(ctx *c);

#endif

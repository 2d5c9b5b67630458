/* Identity stitching around the keyed path (see stitch.h): the stitcher,
 * pass 1 and its verdicts; stitch_run.c runs a job. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fsutil.h"
#include "input.h"
#include "pipeline.h"
#include "record.h"
#include "recfacts.h"
#include "stitch_int.h"

struct se_stitcher {
    se_idgraph *g;
    se_rparser *rp;
    se_ident *ids;
    size_t cap;
    char *buf;                 /* unescaped identities */
    size_t buf_cap;
    json_object *tree;         /* a record read as a tree, for its identities' strings */
    char *key;
    size_t key_cap;
    uint64_t last_h;           /* the identity se_stitcher_key looked up last */
    uint64_t *hs;              /* pass 1: the identities' hashes, from prep */
    size_t hs_cap;
    bool cached;               /* key_of_hash: key, klen and size are last_h's */
    size_t klen;
    unsigned size;
};

#define ADVICE "give the dump as files, or stitch it on the keyed path: " \
    "segexport key --graph FILE... | LC_ALL=C sort -t \"$(printf '\\t')\" -k1,1 -s | segexport run --keyed JOB"

int se_stitch_check_inputs(char *const *paths, size_t n, char *err, size_t errlen)
{
    struct stat sb;
    if (n == 0) {
        snprintf(err, errlen, "identityGraph \"pdg\" reads the input twice and stdin cannot be read twice: %s", ADVICE);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(paths[i], "-")) {
            snprintf(err, errlen, "identityGraph \"pdg\" reads the input twice and stdin cannot be read twice: %s",
                     ADVICE);
            return -1;
        }
        if (stat(paths[i], &sb) != 0) {
            snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
            return -1;
        }
        if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)) {
            snprintf(err, errlen, "%s: identityGraph \"pdg\" reads the input twice and this is not a file: %s",
                     paths[i], ADVICE);
            return -1;
        }
    }
    return 0;
}

se_stitcher *se_stitcher_new(void)
{
    se_stitcher *st = calloc(1, sizeof *st);
    if (!st || !(st->g = se_idgraph_new()) || !(st->rp = se_rparser_new())) {
        se_stitcher_free(st);
        return NULL;
    }
    return st;
}

void se_stitcher_free(se_stitcher *st)
{
    if (!st)
        return;
    se_idgraph_free(st->g);
    se_rparser_free(st->rp);
    json_object_put(st->tree);
    free(st->buf);
    free(st->ids);
    free(st->key);
    free(st->hs);
    free(st);
}

se_idgraph *se_stitcher_graph(se_stitcher *st)
{
    return st->g;
}

/* ---- identities from the tape ---------------------------------------- */

/* The identities of a good record (se_record_parse accepts it), from its
 * tape: count (0: none), -1 out of memory, -2 a bad record (err says why).
 * *v and the strings stay valid until the next call. */
static long record_idents(se_stitcher *st, const char *data, size_t len, size_t *key, char *err,
                          size_t errlen)
{
    se_record rec;
    json_object *map = NULL;
    json_object_put(st->tree);
    st->tree = NULL;
    if (se_record_facts(st->rp, data, len, &rec, err, errlen) != 0)
        return strcmp(err, "out of memory") ? -2 : -1;
    long n = se_tape_idents(se_rparser_tape(st->rp), &st->ids, &st->cap, key, &st->buf, &st->buf_cap);
    if (n == -2) {
        /* Both spellings of identityMap: the normalized tree's (kept for
         * the strings until the next call). */
        if (se_record_tree(st->rp, &rec, err, errlen) != 0) {
            se_record_clear(&rec);
            return -1;
        }
        st->tree = rec.obj;
        rec.obj = NULL;
        json_object_object_get_ex(st->tree, "identityMap", &map);
        n = se_ident_collect(map, &st->ids, &st->cap, key);
    }
    se_record_clear(&rec);
    return n < 0 ? -1 : n;
}

/* se_stitcher_learn, telling a good record's key identity hash (*good). */
static int learn_one(se_stitcher *st, const char *data, size_t len, bool *good, uint64_t *h)
{
    char err[256];
    size_t key;
    long n = record_idents(st, data, len, &key, err, sizeof err);
    *good = false;
    st->cached = false; /* the graph changes: no key is known any more */
    if (n == -2)
        return 0; /* a bad record: pass 2 reports it */
    if (n < 0 || (n > 0 && se_idgraph_add(st->g, st->ids, (size_t)n, key) != 0))
        return -1;
    if (n > 0) {
        const se_ident *k = &st->ids[key];
        *h = se_ident_hash(k->ns, k->nslen, k->id, k->idlen);
        *good = true;
    }
    return 0;
}

int se_stitcher_learn(se_stitcher *st, const char *data, size_t len)
{
    bool good;
    uint64_t h;
    return learn_one(st, data, len, &good, &h);
}

int se_st_key_of_hash(se_stitcher *st, uint64_t h, const char **key, size_t *klen, unsigned *size,
                       char *err, size_t errlen)
{
    se_ident ck;
    if (st->cached && h == st->last_h) {
        /* (a profile's records come together: one lookup for them) */
        *key = st->key;
        *klen = st->klen;
        *size = st->size;
        return 1;
    }
    st->cached = false;
    st->last_h = h;
    if (!se_idgraph_find(st->g, h, &ck, size)) {
        snprintf(err, errlen, "the input changed while it was read (a record's identity is not in the graph)");
        return -1;
    }
    long n = se_ident_key_text(&ck, &st->key, &st->key_cap);
    if (n < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *key = st->key;
    *klen = st->klen = (size_t)n;
    st->size = *size;
    st->cached = true;
    return 1;
}

int se_stitcher_key(se_stitcher *st, const char *data, size_t len, const char **key,
                    size_t *klen, unsigned *size, char *err, size_t errlen)
{
    size_t ki;
    long n = record_idents(st, data, len, &ki, err, errlen);
    if (n == -2)
        return 0;
    if (n <= 0) {
        snprintf(err, errlen, "out of memory"); /* (a good record has an identity) */
        return -1;
    }
    const se_ident *k = &st->ids[ki];
    return se_st_key_of_hash(st, se_ident_hash(k->ns, k->nslen, k->id, k->idlen), key, klen, size, err, errlen);
}

bool se_stitcher_report_once(se_stitcher *st)
{
    return se_idgraph_report_once(st->g, st->last_h);
}

/* A line's identities, on either thread (prep): the count, with their
 * strings in the line (those with an escape make it -1: the caller then
 * reads the line itself), or -1 for a bad record or out of memory. */
typedef struct prepst {
    se_tape tp;
    se_ident *ids;
    size_t cap, key;
    char *buf;
    size_t buf_cap;
} prepst;

static long prep_idents(prepst *ps, const char *data, size_t len)
{
    se_record rec = { 0 };
    char err[128];
    if (se_tape_parse(&ps->tp, data, len) != SE_TAPE_OK || ps->tp.t[0].kind != SE_TK_OBJ ||
        ps->tp.notjson)
        return -1;
    int bad = se_tape_facts(&ps->tp, &rec, err, sizeof err);
    se_record_clear(&rec); /* (what a refusal filled in, too) */
    if (bad)
        return -1;
    long n = se_tape_idents(&ps->tp, &ps->ids, &ps->cap, &ps->key, &ps->buf, &ps->buf_cap);
    for (long k = 0; k < n; k++)
        if (ps->ids[k].id < data || ps->ids[k].id >= data + len || ps->ids[k].ns < data ||
            ps->ids[k].ns >= data + len)
            return -1; /* unescaped: not in the line */
    return n;
}

static void prep_free(prepst *ps)
{
    se_tape_free(&ps->tp);
    free(ps->ids);
    free(ps->buf);
}

/* Pass 1's prep, on either thread (reads only the chunk): a good record
 * whose identities are in its bytes gets them in the arena as IDENT_BYTES
 * each: offsets and lengths of namespace and id (line-relative) and the
 * identity's hash; flags 1, h its key identity's hash. */
#define IDENT_BYTES (4 * sizeof(uint32_t) + sizeof(uint64_t))
static int prep_learn(void *ud, se_chunk *ch)
{
    prepst ps = { 0 };
    int rc = 0;
    (void)ud;
    for (size_t i = 0; i < ch->nlines; i++) {
        se_pline *pl = &ch->lines[i];
        pl->flags = 0;
        if (pl->too_long)
            continue; /* a chunk of only too-long lines has no data at all */
        const char *data = ch->data + pl->off;
        long n = prep_idents(&ps, data, pl->len);
        if (n < 0)
            continue;
        char *o = se_chunk_arena(ch, (size_t)n * IDENT_BYTES);
        if (!o && n > 0) {
            rc = -1;
            break;
        }
        for (long k = 0; k < n; k++) {
            const se_ident *id = &ps.ids[k];
            uint32_t q[4] = { (uint32_t)(id->ns - data), (uint32_t)id->nslen,
                              (uint32_t)(id->id - data), (uint32_t)id->idlen };
            uint64_t h = se_ident_hash(id->ns, id->nslen, id->id, id->idlen);
            memcpy(o + (size_t)k * IDENT_BYTES, q, sizeof q);
            memcpy(o + (size_t)k * IDENT_BYTES + sizeof q, &h, sizeof h);
            if ((size_t)k == ps.key)
                pl->h = h;
        }
        pl->flags = 1;
        pl->a = (uint32_t)n;
        pl->b = (uint32_t)ps.key;
        pl->text_off = n > 0 ? (uint32_t)(o - ch->arena) : 0;
    }
    prep_free(&ps);
    return rc;
}

/* ---- verdicts: pass 1's word on each line, for pass 2 ----------------- */

static int vs_flush(vspool *vs)
{
    if (vs->n && se_write_all(vs->fd, (const char *)vs->v, vs->n * sizeof *vs->v) != 0)
        return -1;
    vs->n = 0;
    return 0;
}

static int vs_put(vspool *vs, uint32_t len, bool good, uint64_t h)
{
    if (vs->n == VBUF && vs_flush(vs) != 0)
        return -1;
    vs->v[vs->n++] = (verdict){ len, good, good ? h : 0 };
    return 0;
}

/* The next verdict: 1, 0 at the end, -1 on a read error. */
int se_st_vs_get(vspool *vs, verdict *out)
{
    if (vs->pos == vs->n) {
        size_t got = 0;
        while (got < sizeof vs->v) {
            ssize_t r = read(vs->fd, (char *)vs->v + got, sizeof vs->v - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return -1;
            if (r == 0)
                break;
            got += (size_t)r;
        }
        vs->n = got / sizeof *vs->v;
        vs->pos = 0;
        if (vs->n == 0)
            return 0;
    }
    *out = vs->v[vs->pos++];
    return 1;
}

int se_st_read_graph(se_stitcher *st, char *const *paths, size_t n, size_t max_record_bytes,
                      volatile sig_atomic_t *cancel, vspool *vs, char *err, size_t errlen)
{
    se_pipe *pipe = se_pipe_start(paths, n, max_record_bytes, prep_learn, NULL, st);
    int rc = -1;

    st->cached = false;
    if (!pipe) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        se_chunk *ch = se_pipe_next(pipe);
        if (ch->status < 0) {
            snprintf(err, errlen, "%s", ch->err);
            goto out;
        }
        if (ch->status == 0)
            break;
        if (cancel && *cancel) {
            snprintf(err, errlen, "cancelled");
            goto out;
        }
        for (size_t i = 0; i < ch->nlines; i++) {
            const se_pline *pl = &ch->lines[i];
            const char *data = ch->data ? ch->data + pl->off : "";
            int r = 0;
            bool good = false;
            uint64_t h = 0;
            if (i + PREFETCH < ch->nlines) {
                /* The graph is big and looked up at random: ask for the
                 * slots of a later line's identities now. */
                const se_pline *ahead = &ch->lines[i + PREFETCH];
                for (uint32_t k = 0; (ahead->flags & 1) && k < ahead->a; k++) {
                    uint64_t ah;
                    memcpy(&ah, ch->arena + ahead->text_off + k * IDENT_BYTES + 4 * sizeof(uint32_t), sizeof ah);
                    se_idgraph_prefetch(st->g, ah);
                }
            }
            if (pl->too_long)
                continue;
            if (pl->flags & 1) {
                if (pl->a > st->cap || pl->a > st->hs_cap) {
                    se_ident *nv = realloc(st->ids, pl->a * sizeof *nv);
                    if (nv)
                        st->ids = nv;
                    uint64_t *nh = nv ? realloc(st->hs, pl->a * sizeof *nh) : NULL;
                    if (!nh) {
                        snprintf(err, errlen, "out of memory");
                        goto out;
                    }
                    st->hs = nh;
                    st->cap = st->hs_cap = pl->a;
                }
                for (uint32_t k = 0; k < pl->a; k++) {
                    uint32_t q[4];
                    const char *e = ch->arena + pl->text_off + (size_t)k * IDENT_BYTES;
                    memcpy(q, e, sizeof q);
                    memcpy(&st->hs[k], e + sizeof q, sizeof st->hs[k]);
                    st->ids[k] = (se_ident){ data + q[0], data + q[2], q[1], q[3] };
                }
                r = pl->a ? se_idgraph_add_hashed(st->g, st->ids, st->hs, pl->a, pl->b) : 0;
                good = pl->a > 0;
                h = pl->h;
            } else {
                r = learn_one(st, data, pl->len, &good, &h);
            }
            if (r != 0) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            if (vs && vs_put(vs, pl->len, good, h) != 0) {
                snprintf(err, errlen, "temporary file: %s", strerror(errno));
                goto out;
            }
        }
    }
    if (vs && vs_flush(vs) != 0) {
        snprintf(err, errlen, "temporary file: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    se_pipe_free(pipe);
    return rc;
}

int se_stitcher_read(se_stitcher *st, char *const *paths, size_t n, size_t max_record_bytes,
                     volatile sig_atomic_t *cancel, char *err, size_t errlen)
{
    return se_st_read_graph(st, paths, n, max_record_bytes, cancel, NULL, err, errlen);
}


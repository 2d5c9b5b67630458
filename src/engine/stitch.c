/* Identity stitching around the keyed path (see stitch.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "errcodes.h"
#include "extsort.h"
#include "fsutil.h"
#include "input.h"
#include "pipeline.h"
#include "record.h"
#include "recfacts.h"
#include "stitch.h"
#include "timeutil.h"

#define SORT_MEMORY ((size_t)16 << 20) /* the sort's two half-buffers (extsort.h): more runs on disk
                                       * cost less than more pages to fault in */
#define PREFETCH 4                     /* lines looked ahead for the graph's cache misses */
#define WARN_LIMIT 20                  /* as the engine: bad-record warnings passed to on_warning */

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

/* The key text of the component of the identity with hash h: 1, or -1 with err. */
static int key_of_hash(se_stitcher *st, uint64_t h, const char **key, size_t *klen, unsigned *size,
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
    return key_of_hash(st, se_ident_hash(k->ns, k->nslen, k->id, k->idlen), key, klen, size, err, errlen);
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

/* One line's verdict, in input order (too-long lines have none): its length
 * (a check that pass 2 reads the same line) and, for a good record, the hash
 * of its key identity, so pass 2 neither parses nor validates it again.  A
 * bad record (good 0) is read again by pass 2, which words the reason. */
typedef struct verdict {
    uint32_t len, good;
    uint64_t h;
} verdict;

/* Verdicts go through a buffer to an unlinked temporary file: 16 bytes a
 * line on disk, VBUF in memory. */
#define VBUF 4096
typedef struct vspool {
    int fd;
    verdict v[VBUF];
    size_t n, pos;             /* filled, and (reading) taken */
} vspool;

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
static int vs_get(vspool *vs, verdict *out)
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

/* Pass 1; with vs, every line's verdict goes there. */
static int read_graph(se_stitcher *st, char *const *paths, size_t n, size_t max_record_bytes,
                      volatile sig_atomic_t *cancel, vspool *vs, char *err, size_t errlen)
{
    se_pipe *pipe = se_pipe_start(paths, n, max_record_bytes, prep_learn, NULL, st);
    int rc = -1;

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
    return read_graph(st, paths, n, max_record_bytes, cancel, NULL, err, errlen);
}

/* ---- run ------------------------------------------------------------- */

/* Where a pdg job's time goes (the -v note): wall and CPU seconds (both
 * threads) of each phase, from a monotonic clock and getrusage. */
typedef struct phclock {
    double wall, cpu;
} phclock;

static phclock ph_now(void)
{
    struct timespec ts;
    struct rusage ru;
    phclock p = { 0, 0 };
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        p.wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        p.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return p;
}

/* Appends " NAME W s (CPU C s)" for the phase since *t, and restarts *t. */
static void ph_lap(char *buf, size_t cap, const char *name, phclock *t)
{
    phclock n = ph_now();
    size_t len = strlen(buf);
    if (len < cap)
        snprintf(buf + len, cap - len, "%s %s %.2f s (CPU %.2f s)", len ? "," : "", name,
                 n.wall - t->wall, n.cpu - t->cpu);
    *t = n;
}

typedef struct sctx {
    const se_export_params *ep;
    se_jobstate *js;
    bool failed;
    char why[1024];
    char **giants;             /* keys of the components left out, reported at the end of pass 2 */
    size_t ngiants, cap_giants;
} sctx;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SPEC §4: the left-out profiles, after the bad records and in key order, as
 * the keyed path reports them (bad-record lines sort first, then groups). */
static void report_giants(sctx *c)
{
    if (c->ngiants > 1)
        qsort(c->giants, c->ngiants, sizeof *c->giants, cmp_str);
    for (size_t i = 0; i < c->ngiants; i++) {
        char msg[1024];
        snprintf(msg, sizeof msg, "profile \"%s\" left out: its identity graph holds more than %d identities",
                 c->giants[i], SE_GRAPH_MAX_IDENTITIES);
        se_jobstate_error(c->js, SE_EC_GRAPH_TOO_BIG, msg, "segexport.graph");
        if (c->ep->on_warning)
            c->ep->on_warning(c->ep->warning_ud, msg);
    }
}

static void sfail(sctx *c, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void sfail(sctx *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    if (c->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    se_jobstate_error(c->js, code, c->why, "segexport");
    c->failed = true;
}

static const char *cancel_text(const se_export_params *ep)
{
    return ep->cancel_reason && *ep->cancel_reason ? *ep->cancel_reason : "job cancelled";
}

static bool cancelled(sctx *c)
{
    if (c->ep->cancel && *c->ep->cancel) {
        sfail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
        return true;
    }
    return false;
}

static void bad_record(sctx *c, const char *name, uint64_t line, const char *reason)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s:%llu: %s", name, (unsigned long long)line, reason);
    c->js->input_records++;
    c->js->bad_records++;
    se_jobstate_error(c->js, SE_EC_BAD_RECORD, msg, "segexport.input");
    if (c->js->bad_records <= WARN_LIMIT && c->ep->on_warning)
        c->ep->on_warning(c->ep->warning_ud, msg);
    if (c->js->bad_records > c->ep->o.max_errors)
        sfail(c, SE_EC_JOB_FAILED,
              "Error in Export Job: %llu bad input records, more than --max-errors %llu",
              (unsigned long long)c->js->bad_records, (unsigned long long)c->ep->o.max_errors);
}

/* Pass 2's prep: nothing; pass 1's verdicts tell what each line is. */
static int prep_none(void *ud, se_chunk *ch)
{
    (void)ud;
    for (size_t i = 0; i < ch->nlines; i++)
        ch->lines[i].flags = 0;
    return 0;
}

/* The engine's view of the job while the sort streams to it: its cancel
 * flag is the job's (passed on once a chunk, from its progress callback) or
 * the merge thread's failure, set before the stream shows its end, so the
 * engine never commits a cut stream. */
typedef struct feed {
    const se_export_params *ep;
    volatile sig_atomic_t stop;
    const char *reason;
    char why[600];
} feed;

static void feed_stop(feed *f, const char *reason)
{
    if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&f->reason, reason, __ATOMIC_RELEASE);
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
}

static void feed_fail(void *ud, const char *err)
{
    feed *f = ud;
    snprintf(f->why, sizeof f->why, "Error writing profiles to output path: %s", err);
    feed_stop(f, f->why);
}

static void feed_progress(void *ud, const se_export_progress *p)
{
    feed *f = ud;
    if (f->ep->cancel && *f->ep->cancel)
        feed_stop(f, cancel_text(f->ep));
    if (f->ep->on_progress)
        f->ep->on_progress(f->ep->progress_ud, p);
}

/* Pass 2: every good record's line, keyed by its component, into the sort. */
static void spool(sctx *c, se_stitcher *st, vspool *vs, se_extsort *xs)
{
    const se_export_limits *o = &c->ep->o;
    se_pipe *pipe = se_pipe_start(c->ep->inputs, c->ep->ninputs, (size_t)o->max_record_bytes,
                                  prep_none, NULL, st);
    char err[1024];
    verdict v;

    if (!pipe) {
        sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    while (!c->failed) {
        se_chunk *ch = se_pipe_next(pipe);
        if (ch->status < 0) {
            sfail(c, SE_EC_INPUT_READ, "Error reading input: %s", ch->err);
            break;
        }
        if (ch->status == 0 || cancelled(c))
            break;
        for (size_t i = 0; i < ch->nlines && !c->failed; i++) {
            const se_pline *pl = &ch->lines[i];
            const char *key;
            size_t klen;
            unsigned size;
            int k;
            if (pl->too_long) {
                snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                         (unsigned long long)o->max_record_bytes);
                bad_record(c, ch->name, pl->lineno, err);
                continue;
            }
            const char *data = ch->data + pl->off;
            if (vs->pos + PREFETCH < vs->n && vs->v[vs->pos + PREFETCH].good)
                se_idgraph_prefetch(se_stitcher_graph(st), vs->v[vs->pos + PREFETCH].h);
            int r = vs_get(vs, &v);
            if (r < 0) {
                sfail(c, SE_EC_WRITE, "Error writing profiles to output path: temporary file: %s",
                      strerror(errno));
                break;
            }
            if (r == 0 || v.len != pl->len) {
                sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: %s:%llu: the input changed while it was read",
                      ch->name, (unsigned long long)pl->lineno);
                break;
            }
            if (v.good)
                k = key_of_hash(st, v.h, &key, &klen, &size, err, sizeof err);
            else
                k = se_stitcher_key(st, data, pl->len, &key, &klen, &size, err, sizeof err);
            if (k == 0) {
                bad_record(c, ch->name, pl->lineno, err);
            } else if (k > 0 && size > SE_GRAPH_MAX_IDENTITIES) {
                /* SPEC §4: left out, reported once, not a bad record. */
                c->js->input_records++;
                if (se_stitcher_report_once(st)) {
                    if (c->ngiants == c->cap_giants) {
                        size_t nc = c->cap_giants ? 2 * c->cap_giants : 8;
                        char **ng = realloc(c->giants, nc * sizeof *ng);
                        if (!ng) {
                            sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
                            break;
                        }
                        c->giants = ng;
                        c->cap_giants = nc;
                    }
                    if (!(c->giants[c->ngiants] = strndup(key, klen))) {
                        sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
                        break;
                    }
                    c->ngiants++;
                }
            } else if (k < 0) {
                sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: %s:%llu: %s", ch->name,
                      (unsigned long long)pl->lineno, err);
            } else if (se_extsort_add(xs, key, klen, data, pl->len, err, sizeof err) != 0) {
                sfail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
            }
        }
    }
    se_pipe_free(pipe);
}

int se_stitch_execute(const se_export_params *ep, char *why, size_t whylen)
{
    sctx c = { .ep = ep, .js = ep->js };
    se_stitcher *st = se_stitcher_new();
    se_extsort *xs = NULL;
    vspool *vs = NULL;
    char err[1024], *dir = NULL, path[64], phases[256] = "";
    int fd = -1, rc = 1;
    int64_t start = se_now_ms();
    phclock t = ph_now();

    ep->js->export_start_ms = start;
    if (!st) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    /* The sort's and the verdicts' temporary files go where the batches' do. */
    if (!(dir = se_asprintf("%s/%s", ep->output_root, ep->job->dataset_id)) ||
        !(xs = se_extsort_new(dir, SORT_MEMORY)) || !(vs = malloc(sizeof *vs))) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    vs->n = vs->pos = 0;
    vs->fd = -1;
    if (se_mkdir_p(dir, err, sizeof err) != 0 || (vs->fd = se_extsort_tempfile(dir, err, sizeof err)) < 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        goto out;
    }
    if (read_graph(st, ep->inputs, ep->ninputs, (size_t)ep->o.max_record_bytes, ep->cancel, vs,
                   err, sizeof err) != 0) {
        if (ep->cancel && *ep->cancel)
            cancelled(&c);
        else if (!strcmp(err, "out of memory"))
            sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        else if (!strncmp(err, "temporary file: ", 16))
            sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s: %s", dir, err);
        else
            sfail(&c, SE_EC_INPUT_READ, "Error reading input: %s", err);
        goto out;
    }
    if (lseek(vs->fd, 0, SEEK_SET) != 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s: temporary file: %s", dir,
              strerror(errno));
        goto out;
    }
    ph_lap(phases, sizeof phases, "graph", &t);
    size_t ids = se_idgraph_identities(st->g), peak = se_idgraph_peak_bytes(st->g);
    if (ep->on_info) {
        char note[256];
        snprintf(note, sizeof note,
                 "job %lld: identity graph: %zu identities, %zu stitched profiles, %zu bytes (peak %zu, %.1f per identity)",
                 (long long)ep->js->id, ids, se_idgraph_components(st->g), se_idgraph_bytes(st->g), peak,
                 ids ? (double)peak / (double)ids : 0.0);
        ep->on_info(ep->warning_ud, note);
    }
    spool(&c, st, vs, xs);
    if (c.failed)
        goto out;
    if (vs_get(vs, &(verdict){ 0 }) != 0) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: the input changed while it was read");
        goto out;
    }
    close(vs->fd);
    free(vs);
    vs = NULL;
    ph_lap(phases, sizeof phases, "keying", &t);
    report_giants(&c);
    se_stitcher_free(st); /* the graph is not needed past here */
    st = NULL;
    /* The sorted lines are the engine's --keyed input, streamed to it by
     * the sort's merge thread through a pipe: the merge runs beside the
     * engine and the merged lines never go to disk. */
    feed f = { .ep = ep };
    if ((fd = se_extsort_stream(xs, feed_fail, &f, err, sizeof err)) < 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        goto out;
    }
    if (cancelled(&c))
        goto out;

    /* Keys make the lines longer than the records. */
    se_export_limits o = ep->o;
    o.keyed = true;
    o.max_record_bytes = ep->o.max_record_bytes > UINT64_MAX / 4 ? UINT64_MAX
                         : 3 * ep->o.max_record_bytes + 16;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *inputs[1] = { path };
    se_export_params kp = *ep;
    kp.o = o;
    kp.inputs = inputs;
    kp.ninputs = 1;
    kp.graph_checked = true;
    kp.cancel = &f.stop;
    kp.cancel_reason = &f.reason;
    kp.on_progress = feed_progress;
    kp.progress_ud = &f;
    rc = se_export_execute(&kp, why, whylen);
    close(fd); /* before the merge thread is waited for: it may wait for room */
    fd = -1;
    (void)se_extsort_stream_end(xs, err, sizeof err); /* (on_fail failed the export) */
    ep->js->export_start_ms = start;
    ph_lap(phases, sizeof phases, "sort merge and export", &t);
    if (ep->on_info) {
        char note[400];
        snprintf(note, sizeof note, "job %lld: pdg phases:%s", (long long)ep->js->id, phases);
        ep->on_info(ep->warning_ud, note);
    }
    goto done;
out:
    ep->js->export_end_ms = ep->js->update_ms = se_now_ms();
    ep->js->finished = true;
    ep->js->status = "FAILED";
    if (why)
        snprintf(why, whylen, "%s", c.why);
    rc = 1;
done:
    if (vs) {
        if (vs->fd >= 0)
            close(vs->fd);
        free(vs);
    }
    if (fd >= 0)
        close(fd);
    se_extsort_free(xs);
    se_stitcher_free(st);
    free(dir);
    for (size_t i = 0; i < c.ngiants; i++)
        free(c.giants[i]);
    free(c.giants);
    return rc;
}

/* Identity stitching around the keyed path (see stitch.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errcodes.h"
#include "extsort.h"
#include "fsutil.h"
#include "input.h"
#include "msg.h"
#include "pipeline.h"
#include "record.h"
#include "scan.h"
#include "stitch.h"
#include "timeutil.h"

#define SORT_MEMORY ((size_t)64 << 20) /* run's in-memory sort buffer */
#define WARN_LIMIT 20                  /* as the engine: bad-record warnings on stderr */
#define RAW_MAX 64                     /* identities of a record read from its bytes (more: json-c) */

struct se_stitcher {
    se_idgraph *g;
    se_rparser *rp;
    json_tokener *tok;
    se_ident *ids;
    size_t cap;
    char *key;
    size_t key_cap;
    uint64_t last_h;           /* the identity se_stitcher_key looked up last */
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
    if (!st || !(st->g = se_idgraph_new()) || !(st->rp = se_rparser_new()) ||
        !(st->tok = json_tokener_new())) {
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
    if (st->tok)
        json_tokener_free(st->tok);
    free(st->ids);
    free(st->key);
    free(st);
}

se_idgraph *se_stitcher_graph(se_stitcher *st)
{
    return st->g;
}

/* ---- identities straight from the bytes ------------------------------ */

/* A cursor over JSON the pre-parse validated, without any backslash (so a
 * string ends at the next quote). */
typedef struct cur { const char *p, *end; } cur;

static void ws(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

/* A string's bytes (the cursor on its opening quote). */
static bool str(cur *c, const char **s, size_t *n)
{
    if (c->p >= c->end || *c->p != '"')
        return false;
    const char *e = memchr(c->p + 1, '"', (size_t)(c->end - c->p - 1));
    if (!e)
        return false;
    *s = c->p + 1;
    *n = (size_t)(e - c->p - 1);
    c->p = e + 1;
    return true;
}

/* Past one value. */
static bool skip(cur *c)
{
    int depth = 0;
    do {
        ws(c);
        if (c->p >= c->end)
            return false;
        char ch = *c->p;
        if (ch == '"') {
            const char *s;
            size_t n;
            if (!str(c, &s, &n))
                return false;
        } else if (ch == '{' || ch == '[') {
            depth++;
            c->p++;
            continue;
        } else if (ch == '}' || ch == ']') {
            depth--;
            c->p++;
        } else if (ch == ',' || ch == ':') {
            c->p++;
            continue;
        } else {
            while (c->p < c->end && !strchr(",}] \t\r\n", *c->p))
                c->p++;
        }
    } while (depth > 0);
    return true;
}

static bool lit(cur *c, char ch)
{
    ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* The identities of an identityMap value v[0..n), as se_ident_collect reads
 * them from json-c, straight from the bytes: returns the count (*key the
 * SPEC §3 key's index), or -2 when not sure (a backslash, a duplicate
 * namespace or item key, an "xdm:" item key, more than cap identities: use
 * json-c).  Reads only v: safe on any thread. */
static long raw_idents(const char *v, size_t n, se_ident *out, size_t cap, size_t *key)
{
    cur c = { v, v + n };
    size_t cnt = 0, nns = 0, nsl_seen[64];
    const char *ns_seen[64];
    bool primary_found = false;
    const char *ns, *k;
    size_t nsl, kl;

    if (memchr(v, '\\', n) || !lit(&c, '{'))
        return -2;
    *key = 0;
    if (lit(&c, '}'))
        return 0;
    do {
        ws(&c);
        if (!str(&c, &ns, &nsl) || !lit(&c, ':'))
            return -2;
        if (memchr(ns, '\0', nsl))
            return -2;
        /* a duplicate namespace: json-c keeps the last value, in the first place */
        for (size_t i = 0; i < nns; i++)
            if (nsl_seen[i] == nsl && !memcmp(ns_seen[i], ns, nsl))
                return -2;
        if (nns == 64)
            return -2;
        ns_seen[nns] = ns;
        nsl_seen[nns++] = nsl;
        ws(&c);
        if (c.p < c.end && *c.p == '[') {
            c.p++;
            if (!lit(&c, ']')) {
                do {
                    ws(&c);
                    if (c.p >= c.end || *c.p != '{') {
                        if (!skip(&c))
                            return -2;
                        continue;
                    }
                    c.p++;
                    const char *id = NULL;
                    size_t idl = 0;
                    bool has_id = false, has_pr = false, pr = false, id_str = false;
                    if (!lit(&c, '}')) {
                        do {
                            ws(&c);
                            if (!str(&c, &k, &kl) || !lit(&c, ':'))
                                return -2;
                            if (kl >= 4 && !memcmp(k, "xdm:", 4))
                                return -2;
                            ws(&c);
                            if (kl == 2 && !memcmp(k, "id", 2)) {
                                if (has_id)
                                    return -2;
                                has_id = true;
                                if (c.p < c.end && *c.p == '"') {
                                    if (!str(&c, &id, &idl))
                                        return -2;
                                    id_str = true;
                                } else if (!skip(&c)) {
                                    return -2;
                                }
                            } else if (kl == 7 && !memcmp(k, "primary", 7)) {
                                if (has_pr)
                                    return -2;
                                has_pr = true;
                                pr = c.end - c.p >= 4 && !memcmp(c.p, "true", 4);
                                if (!skip(&c))
                                    return -2;
                            } else if (!skip(&c)) {
                                return -2;
                            }
                        } while (lit(&c, ','));
                        if (!lit(&c, '}'))
                            return -2;
                    }
                    if (!id_str || idl == 0)
                        continue;
                    if (cnt == cap)
                        return -2;
                    out[cnt] = (se_ident){ ns, id, nsl, idl };
                    if (!primary_found && (pr || cnt == 0 || se_ident_cmp(&out[cnt], &out[*key]) < 0)) {
                        *key = cnt;
                        primary_found = pr;
                    }
                    cnt++;
                } while (lit(&c, ','));
                if (!lit(&c, ']'))
                    return -2;
            }
        } else if (!skip(&c)) {
            return -2;
        }
    } while (lit(&c, ','));
    return lit(&c, '}') ? (long)cnt : -2;
}

/* The value of the top-level identityMap of a record the pre-parse was sure
 * of, parsed alone (cheaper than the whole record); NULL when not found. */
static bool idmap_value(const char *data, const se_scan *sc, const char **v, size_t *n)
{
    for (size_t i = 0; i < sc->nmembers; i++) {
        const se_scan_member *m = &sc->members[i];
        if (m->name_len != 11 || memcmp(data + m->name_off, "identityMap", 11) != 0)
            continue;
        const char *p = data + m->name_off + 12, *end = data + m->off + m->len; /* past the quote */
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ':'))
            p++;
        *v = p;
        *n = (size_t)(end - p);
        return true;
    }
    return false;
}

int se_stitcher_learn(se_stitcher *st, const char *data, size_t len)
{
    se_scan sc;
    se_record rec;
    json_object *map = NULL, *own = NULL;
    char err[256];
    size_t key;
    int rc = 0;

    memset(&rec, 0, sizeof rec);
    if (se_scan_record(data, len, &sc) && sc.members_ok) {
        const char *v;
        size_t vn;
        if (idmap_value(data, &sc, &v, &vn)) {
            se_ident tmp[RAW_MAX];
            long n = raw_idents(v, vn, tmp, RAW_MAX, &key);
            if (n >= 0)
                return n > 0 && se_idgraph_add(st->g, tmp, (size_t)n, key) != 0 ? -1 : 0;
            json_tokener_reset(st->tok);
            map = own = json_tokener_parse_ex(st->tok, v, (int)vn);
        }
    }
    if (!map) {
        if (se_record_parse(st->rp, data, len, &rec, err, sizeof err) != 0)
            return 0; /* a bad record: pass 2 reports it */
        json_object_object_get_ex(rec.obj, "identityMap", &map);
    }
    long n = se_ident_collect(map, &st->ids, &st->cap, &key);
    if (n < 0 || (n > 0 && se_idgraph_add(st->g, st->ids, (size_t)n, key) != 0))
        rc = -1;
    json_object_put(own);
    se_record_clear(&rec);
    return rc;
}

/* The key text of the component of the identity with hash h: 1, or -1 with err. */
static int key_of_hash(se_stitcher *st, uint64_t h, const char **key, size_t *klen, unsigned *size,
                       char *err, size_t errlen)
{
    se_ident ck;
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
    *klen = (size_t)n;
    return 1;
}

int se_stitcher_key(se_stitcher *st, const char *data, size_t len, const char **key,
                    size_t *klen, unsigned *size, char *err, size_t errlen)
{
    se_scan sc;
    se_record rec;
    se_ident k;
    size_t ki;
    int rc = -1;

    memset(&rec, 0, sizeof rec);
    if (se_scan_record(data, len, &sc)) {
        k = (se_ident){ data + sc.ns_off, data + sc.id_off, sc.ns_len, sc.id_len };
    } else {
        json_object *map = NULL;
        if (se_record_parse(st->rp, data, len, &rec, err, errlen) != 0)
            return 0;
        json_object_object_get_ex(rec.obj, "identityMap", &map);
        if (se_ident_collect(map, &st->ids, &st->cap, &ki) <= 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        k = st->ids[ki];
    }
    rc = key_of_hash(st, se_ident_hash(k.ns, k.nslen, k.id, k.idlen), key, klen, size, err, errlen);
out:
    se_record_clear(&rec);
    return rc;
}

bool se_stitcher_report_once(se_stitcher *st)
{
    return se_idgraph_report_once(st->g, st->last_h);
}

/* Pass 1's prep, on either thread (reads only the chunk): a record the
 * pre-parse is sure of, whose identities can be read from its bytes, gets
 * them in the arena as 4 offsets/lengths each (line-relative); flags 1. */
static int prep_learn(void *ud, se_chunk *ch)
{
    (void)ud;
    for (size_t i = 0; i < ch->nlines; i++) {
        se_pline *pl = &ch->lines[i];
        const char *data, *v;
        se_scan sc;
        se_ident tmp[RAW_MAX];
        size_t vn, key;
        long n;
        pl->flags = 0;
        if (pl->too_long)
            continue; /* a chunk of only too-long lines has no data at all */
        data = ch->data + pl->off;
        if (!se_scan_record(data, pl->len, &sc) || !sc.members_ok ||
            !idmap_value(data, &sc, &v, &vn) || (n = raw_idents(v, vn, tmp, RAW_MAX, &key)) < 0)
            continue;
        char *o = se_chunk_arena(ch, (size_t)n * 4 * sizeof(uint32_t));
        if (!o && n > 0)
            return -1;
        for (long k = 0; k < n; k++) {
            uint32_t q[4] = { (uint32_t)(tmp[k].ns - data), (uint32_t)tmp[k].nslen,
                              (uint32_t)(tmp[k].id - data), (uint32_t)tmp[k].idlen };
            memcpy(o + (size_t)k * sizeof q, q, sizeof q);
        }
        pl->flags = 1;
        pl->a = (uint32_t)n;
        pl->b = (uint32_t)key;
        pl->text_off = n > 0 ? (uint32_t)(o - ch->arena) : 0;
    }
    return 0;
}

int se_stitcher_read(se_stitcher *st, char *const *paths, size_t n, size_t max_record_bytes,
                     volatile sig_atomic_t *cancel, char *err, size_t errlen)
{
    se_pipe *pipe = se_pipe_start(paths, n, max_record_bytes, prep_learn, NULL, st);
    se_ident tmp[RAW_MAX];
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
            if (pl->too_long)
                continue;
            if (pl->flags & 1) {
                for (uint32_t k = 0; k < pl->a; k++) {
                    uint32_t q[4];
                    memcpy(q, ch->arena + pl->text_off + (size_t)k * sizeof q, sizeof q);
                    tmp[k] = (se_ident){ data + q[0], data + q[2], q[1], q[3] };
                }
                r = pl->a ? se_idgraph_add(st->g, tmp, pl->a, pl->b) : 0;
            } else {
                r = se_stitcher_learn(st, data, pl->len);
            }
            if (r != 0) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
        }
    }
    rc = 0;
out:
    se_pipe_free(pipe);
    return rc;
}

/* ---- run ------------------------------------------------------------- */

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
        se_warn("%s", msg);
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
    if (c->js->bad_records <= WARN_LIMIT)
        se_warn("%s", msg);
    if (c->js->bad_records > c->ep->o.max_errors)
        sfail(c, SE_EC_JOB_FAILED,
              "Error in Export Job: %llu bad input records, more than --max-errors %llu",
              (unsigned long long)c->js->bad_records, (unsigned long long)c->ep->o.max_errors);
}

/* Pass 2's prep, on either thread: the key identity's hash of every record
 * the pre-parse is sure of (flags 1); the others are parsed by the caller. */
static int prep_key(void *ud, se_chunk *ch)
{
    (void)ud;
    for (size_t i = 0; i < ch->nlines; i++) {
        se_pline *pl = &ch->lines[i];
        se_scan sc;
        pl->flags = 0;
        if (pl->too_long)
            continue;
        const char *data = ch->data + pl->off;
        if (!se_scan_record(data, pl->len, &sc))
            continue;
        pl->flags = 1;
        pl->h = se_ident_hash(data + sc.ns_off, sc.ns_len, data + sc.id_off, sc.id_len);
    }
    return 0;
}

/* Pass 2: every good record's line, keyed by its component, into the sort. */
static void spool(sctx *c, se_stitcher *st, se_extsort *xs)
{
    const se_export_limits *o = &c->ep->o;
    se_pipe *pipe = se_pipe_start(c->ep->inputs, c->ep->ninputs, (size_t)o->max_record_bytes,
                                  prep_key, NULL, st);
    char err[1024];

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
            if (pl->flags & 1)
                k = key_of_hash(st, pl->h, &key, &klen, &size, err, sizeof err);
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
    char err[1024], *dir = NULL, path[64];
    int fd = -1, rc = 1;
    int64_t start = se_now_ms();

    ep->js->export_start_ms = start;
    if (!st) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    if (se_stitcher_read(st, ep->inputs, ep->ninputs, (size_t)ep->o.max_record_bytes, ep->cancel,
                         err, sizeof err) != 0) {
        if (ep->cancel && *ep->cancel)
            cancelled(&c);
        else if (!strcmp(err, "out of memory"))
            sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        else
            sfail(&c, SE_EC_INPUT_READ, "Error reading input: %s", err);
        goto out;
    }
    size_t ids = se_idgraph_identities(st->g), peak = se_idgraph_peak_bytes(st->g);
    se_info("job %lld: identity graph: %zu identities, %zu stitched profiles, %zu bytes (peak %zu, %.1f per identity)",
            (long long)ep->js->id, ids, se_idgraph_components(st->g), se_idgraph_bytes(st->g), peak,
            ids ? (double)peak / (double)ids : 0.0);
    /* The sort's temporary files go where the batches' do. */
    if (!(dir = se_asprintf("%s/%s", ep->output_root, ep->job->dataset_id)) ||
        !(xs = se_extsort_new(dir, SORT_MEMORY))) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    if (se_mkdir_p(dir, err, sizeof err) != 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        goto out;
    }
    spool(&c, st, xs);
    if (c.failed)
        goto out;
    report_giants(&c);
    se_stitcher_free(st); /* the graph is not needed past here */
    st = NULL;
    if ((fd = se_extsort_finish(xs, err, sizeof err)) < 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        goto out;
    }
    se_extsort_free(xs);
    xs = NULL;
    if (cancelled(&c))
        goto out;

    /* The sorted lines are the engine's --keyed input; keys make them longer. */
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
    rc = se_export_execute(&kp, why, whylen);
    ep->js->export_start_ms = start;
    goto done;
out:
    ep->js->export_end_ms = ep->js->update_ms = se_now_ms();
    ep->js->finished = true;
    ep->js->status = "FAILED";
    if (why)
        snprintf(why, whylen, "%s", c.why);
    rc = 1;
done:
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

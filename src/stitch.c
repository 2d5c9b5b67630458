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
#include "record.h"
#include "scan.h"
#include "stitch.h"
#include "timeutil.h"

#define SORT_MEMORY ((size_t)64 << 20) /* run's in-memory sort buffer */
#define WARN_LIMIT 20                  /* as the engine: bad-record warnings on stderr */

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
 * namespace or item key, an "xdm:" item key: use json-c), -1 on out of
 * memory. */
static long raw_idents(se_stitcher *st, const char *v, size_t n, size_t *key)
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
                    if (cnt == st->cap) {
                        size_t nc = st->cap ? 2 * st->cap : 8;
                        se_ident *ni = realloc(st->ids, nc * sizeof *ni);
                        if (!ni)
                            return -1;
                        st->ids = ni;
                        st->cap = nc;
                    }
                    st->ids[cnt] = (se_ident){ ns, id, nsl, idl };
                    if (!primary_found && (pr || cnt == 0 || se_ident_cmp(&st->ids[cnt], &st->ids[*key]) < 0)) {
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
            long n = raw_idents(st, v, vn, &key);
            if (n == -1)
                return -1;
            if (n >= 0)
                return n > 0 && se_idgraph_add(st->g, st->ids, (size_t)n, key) != 0 ? -1 : 0;
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

int se_stitcher_key(se_stitcher *st, const char *data, size_t len, const char **key,
                    size_t *klen, unsigned *size, char *err, size_t errlen)
{
    se_scan sc;
    se_record rec;
    se_ident k, ck;
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
    st->last_h = se_ident_hash(k.ns, k.nslen, k.id, k.idlen);
    if (!se_idgraph_find(st->g, st->last_h, &ck, size)) {
        snprintf(err, errlen, "the input changed while it was read (a record's identity is not in the graph)");
        goto out;
    }
    long n = se_ident_key_text(&ck, &st->key, &st->key_cap);
    if (n < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    *key = st->key;
    *klen = (size_t)n;
    rc = 1;
out:
    se_record_clear(&rec);
    return rc;
}

bool se_stitcher_report_once(se_stitcher *st)
{
    return se_idgraph_report_once(st->g, st->last_h);
}

int se_stitcher_read(se_stitcher *st, char *const *paths, size_t n, size_t max_record_bytes,
                     volatile sig_atomic_t *cancel, char *err, size_t errlen)
{
    se_input *in = se_input_open(paths, n, max_record_bytes);
    se_line ln;
    int r, rc = -1;

    if (!in) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while ((r = se_input_next(in, &ln)) > 0) {
        if (cancel && *cancel) {
            snprintf(err, errlen, "cancelled");
            goto out;
        }
        if (!ln.too_long && se_stitcher_learn(st, ln.data, ln.len) != 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (r < 0) {
        snprintf(err, errlen, "%s", se_input_error(in));
        goto out;
    }
    rc = 0;
out:
    se_input_free(in);
    return rc;
}

/* ---- run ------------------------------------------------------------- */

typedef struct sctx {
    const se_export_params *ep;
    se_jobstate *js;
    bool failed;
    char why[1024];
} sctx;

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
    if (c->js->bad_records > c->ep->o->max_errors)
        sfail(c, SE_EC_JOB_FAILED,
              "Error in Export Job: %llu bad input records, more than --max-errors %llu",
              (unsigned long long)c->js->bad_records, (unsigned long long)c->ep->o->max_errors);
}

/* Pass 2: every good record's line, keyed by its component, into the sort. */
static void spool(sctx *c, se_stitcher *st, se_extsort *xs)
{
    const se_opts *o = c->ep->o;
    se_input *in = se_input_open(c->ep->inputs, c->ep->ninputs, (size_t)o->max_record_bytes);
    se_line ln;
    char err[1024];
    int r;

    if (!in) {
        sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    while (!c->failed && (r = se_input_next(in, &ln)) > 0) {
        const char *key;
        size_t klen;
        unsigned size;
        if (cancelled(c))
            break;
        if (ln.too_long) {
            snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                     (unsigned long long)o->max_record_bytes);
            bad_record(c, ln.name, ln.lineno, err);
            continue;
        }
        int k = se_stitcher_key(st, ln.data, ln.len, &key, &klen, &size, err, sizeof err);
        if (k == 0) {
            bad_record(c, ln.name, ln.lineno, err);
        } else if (k > 0 && size > SE_GRAPH_MAX_IDENTITIES) {
            /* SPEC §4: left out, reported once, not a bad record. */
            c->js->input_records++;
            if (se_stitcher_report_once(st)) {
                char msg[1024];
                snprintf(msg, sizeof msg, "profile \"%.*s\" left out: its identity graph holds more than %d identities",
                         (int)klen, key, SE_GRAPH_MAX_IDENTITIES);
                se_jobstate_error(c->js, SE_EC_GRAPH_TOO_BIG, msg, "segexport.graph");
                se_warn("%s", msg);
            }
        } else if (k < 0) {
            sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: %s:%llu: %s", ln.name,
                  (unsigned long long)ln.lineno, err);
        } else if (se_extsort_add(xs, key, klen, ln.data, ln.len, err, sizeof err) != 0) {
            sfail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        }
    }
    if (!c->failed && r < 0)
        sfail(c, SE_EC_INPUT_READ, "Error reading input: %s", se_input_error(in));
    se_input_free(in);
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
    if (se_stitcher_read(st, ep->inputs, ep->ninputs, (size_t)ep->o->max_record_bytes, ep->cancel,
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
    if (ep->progress)
        se_progress("job %lld: identity graph: %zu identities, %zu profiles",
                    (long long)ep->js->id, ids, se_idgraph_components(st->g));
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
    se_opts o = *ep->o;
    o.keyed = true;
    o.max_record_bytes = ep->o->max_record_bytes > UINT64_MAX / 4 ? UINT64_MAX
                         : 3 * ep->o->max_record_bytes + 16;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *inputs[1] = { path };
    se_export_params kp = *ep;
    kp.o = &o;
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
    return rc;
}

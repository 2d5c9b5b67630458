/* Field projection (SPEC §6): a comma-separated list of dot paths, compiled into
 * a tree and applied to a JSON object. */
#include "project.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "project_int.h"

static void node_free_kids(pnode *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        node_free_kids(&n->kids[i]);
        free(n->kids[i].name);
    }
    free(n->kids);
    n->kids = NULL;
    n->nkids = n->capkids = 0;
}

void se_proj_free(se_proj *pj)
{
    if (!pj)
        return;
    node_free_kids(&pj->root);
    free(pj);
}

/* The child of n named s[0..len), created when missing; NULL on out of memory. */
static pnode *child(pnode *n, const char *s, size_t len)
{
    for (size_t i = 0; i < n->nkids; i++) {
        if (strlen(n->kids[i].name) == len && memcmp(n->kids[i].name, s, len) == 0)
            return &n->kids[i];
    }
    if (n->nkids == n->capkids) {
        size_t nc = n->capkids ? n->capkids * 2 : 4;
        if (nc > SIZE_MAX / sizeof *n->kids)
            return NULL;
        pnode *nk = realloc(n->kids, nc * sizeof *nk);
        if (!nk)
            return NULL;
        n->kids = nk;
        n->capkids = nc;
    }
    char *name = strndup(s, len);
    if (!name)
        return NULL;
    pnode *c = &n->kids[n->nkids++];
    memset(c, 0, sizeof *c);
    c->name = name;
    return c;
}

/* Adds the dot path s[0..len).  Empty components are skipped ("a..b" is
 * "a.b").  A terminal node on the way means a prefix is already selected, and
 * the prefix wins; a path that ends at a node drops what lies below it. */
static int add_path(pnode *root, const char *s, size_t len)
{
    pnode *cur = root;
    size_t i = 0;

    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '.')
            j++;
        if (j > i) {
            if (cur->terminal)
                return 0;
            cur = child(cur, s + i, j - i);
            if (!cur)
                return -1;
        }
        i = j + 1;
    }
    if (cur != root) {
        cur->terminal = true;
        node_free_kids(cur);
    }
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int se_proj_compile(const char *fields, se_proj **out)
{
    int rc = -1;
    se_proj *pj = NULL;

    *out = NULL;
    if (!fields)
        return 0;
    pj = calloc(1, sizeof *pj);
    if (!pj)
        goto out;
    for (const char *p = fields; *p;) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        const char *a = p, *b = e;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (b > a && add_path(&pj->root, a, (size_t)(b - a)) != 0)
            goto out;
        p = *e ? e + 1 : e;
    }
    /* Nothing selected (only blanks, commas or dots): the whole record. */
    if (pj->root.nkids > 0) {
        *out = pj;
        pj = NULL;
    }
    rc = 0;
out:
    if (rc != 0)
        errno = ENOMEM;
    se_proj_free(pj);
    return rc;
}

static const pnode *find_kid(const pnode *n, const char *key)
{
    for (size_t i = 0; i < n->nkids; i++)
        if (strcmp(n->kids[i].name, key) == 0)
            return &n->kids[i];
    return NULL;
}

static int proj_object(const pnode *n, json_object *src, json_object **out);

/* Projects a non-terminal node onto v.  *out is NULL when nothing is selected
 * (scalars, empty results).  -1 on out of memory. */
static int proj_value(const pnode *n, json_object *v, json_object **out);

static int proj_array(const pnode *n, json_object *src, json_object **out)
{
    json_object *res = NULL;
    size_t len = json_object_array_length(src);

    *out = NULL;
    for (size_t i = 0; i < len; i++) {
        json_object *e;
        if (proj_value(n, json_object_array_get_idx(src, i), &e) != 0)
            goto fail;
        if (!e)
            continue;
        if (!res)
            res = json_object_new_array();
        if (!res || json_object_array_add(res, e) != 0) {
            json_object_put(e);
            goto fail;
        }
    }
    *out = res;
    return 0;
fail:
    json_object_put(res);
    return -1;
}

static int proj_value(const pnode *n, json_object *v, json_object **out)
{
    *out = NULL;
    if (!v)
        return 0;
    switch (json_object_get_type(v)) {
    case json_type_object: {
        json_object *o;
        if (proj_object(n, v, &o) != 0)
            return -1;
        if (json_object_object_length(o) == 0) {
            json_object_put(o);
            return 0;
        }
        *out = o;
        return 0;
    }
    case json_type_array:
        return proj_array(n, v, out);
    default:
        return 0; /* the path continues past a scalar */
    }
}

/* Always gives an object (maybe empty); the caller drops empty ones below the
 * top level.  Keys follow src's order. */
static int proj_object(const pnode *n, json_object *src, json_object **out)
{
    json_object *res = json_object_new_object();

    *out = NULL;
    if (!res)
        return -1;
    json_object_object_foreach(src, key, v) {
        const pnode *k = find_kid(n, key);
        json_object *c = NULL;
        if (!k)
            continue;
        if (k->terminal) {
            c = json_object_get(v); /* shared; NULL is JSON null, kept as is */
        } else {
            if (proj_value(k, v, &c) != 0)
                goto fail;
            if (!c)
                continue;
        }
        if (json_object_object_add(res, key, c) != 0) {
            json_object_put(c);
            goto fail;
        }
    }
    *out = res;
    return 0;
fail:
    json_object_put(res);
    return -1;
}

json_object *se_proj_apply(const se_proj *pj, json_object *src)
{
    json_object *res = NULL;

    if (!pj)
        return json_object_get(src);
    if (!src || json_object_get_type(src) != json_type_object)
        return json_object_new_object();
    if (proj_object(&pj->root, src, &res) != 0)
        return NULL;
    return res;
}

/* ---- raw-bytes projection (see project.h) ----------------------------- */

typedef struct rw {
    const char *p, *end;
    char *o;
} rw;

/* A string at w->p ('"'), without escapes (json-c would print an escaped one
 * differently or it could hide a name): its content [*s, *s + *n).  Advances
 * past the closing quote.  false: not sure. */
static bool raw_string(rw *w, const char **s, size_t *n)
{
    const char *q = w->p + 1;
    const char *e = memchr(q, '"', (size_t)(w->end - q));
    if (!e || memchr(q, '\\', (size_t)(e - q)))
        return false;
    *s = q;
    *n = (size_t)(e - q);
    w->p = e + 1;
    return true;
}

enum { RAW_MAX_KEYS = 64 };

/* Checks that the value at w->p is printed by json-c exactly as written
 * (compact, strings without escapes, no "-0", no duplicate keys) and moves
 * past it; copies it to w->o when copy.  false: not sure. */
static bool raw_value(rw *w, bool copy, int depth)
{
    const char *start = w->p;

    if (w->p >= w->end || depth > 64)
        return false;
    switch (*w->p) {
    case '"': {
        const char *s;
        size_t n;
        if (!raw_string(w, &s, &n))
            return false;
        break;
    }
    case '{': {
        const char *ks[RAW_MAX_KEYS];
        size_t kl[RAW_MAX_KEYS], nk = 0;
        w->p++;
        if (w->p < w->end && *w->p == '}') {
            w->p++;
            break;
        }
        for (;;) {
            const char *s;
            size_t n;
            if (w->p >= w->end || *w->p != '"' || !raw_string(w, &s, &n) || nk == RAW_MAX_KEYS)
                return false;
            for (size_t i = 0; i < nk; i++)
                if (kl[i] == n && !memcmp(ks[i], s, n))
                    return false;
            ks[nk] = s;
            kl[nk++] = n;
            if (w->p >= w->end || *w->p != ':')
                return false;
            w->p++;
            if (!raw_value(w, false, depth + 1))
                return false;
            if (w->p < w->end && *w->p == ',') {
                w->p++;
                continue;
            }
            if (w->p < w->end && *w->p == '}') {
                w->p++;
                break;
            }
            return false;
        }
        break;
    }
    case '[':
        w->p++;
        if (w->p < w->end && *w->p == ']') {
            w->p++;
            break;
        }
        for (;;) {
            if (!raw_value(w, false, depth + 1))
                return false;
            if (w->p < w->end && *w->p == ',') {
                w->p++;
                continue;
            }
            if (w->p < w->end && *w->p == ']') {
                w->p++;
                break;
            }
            return false;
        }
        break;
    case 't':
    case 'n':
        if (w->end - w->p < 4)
            return false;
        w->p += 4;
        break;
    case 'f':
        if (w->end - w->p < 5)
            return false;
        w->p += 5;
        break;
    default: {
        bool frac = false;
        const char *q = w->p;
        if (q < w->end && *q == '-')
            q++;
        if (q >= w->end || *q < '0' || *q > '9')
            return false;
        while (q < w->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                              *q == '+' || *q == '-')) {
            if (*q == '.' || *q == 'e' || *q == 'E')
                frac = true;
            q++;
        }
        /* Integers are printed by value (int64): "-0" becomes "0", and long
         * ones may not fit; doubles keep their text. */
        if (!frac && ((q - w->p == 2 && w->p[0] == '-' && w->p[1] == '0') || q - w->p > 18))
            return false;
        w->p = q;
        break;
    }
    }
    if (copy) {
        memcpy(w->o, start, (size_t)(w->p - start));
        w->o += w->p - start;
    }
    return true;
}

/* Past the string at w->p ('"'), escapes allowed. */
static bool skip_string(rw *w)
{
    const char *q = w->p + 1;
    for (;;) {
        const char *e = memchr(q, '"', (size_t)(w->end - q));
        if (!e)
            return false;
        const char *b = e;
        while (b > q && b[-1] == '\\')
            b--;
        q = e + 1;
        if (((e - b) & 1) == 0)
            break;
    }
    w->p = q;
    return true;
}

/* Moves past the value at w->p without checking its form (whitespace: not
 * sure). */
static bool raw_skip(rw *w)
{
    if (w->p >= w->end)
        return false;
    if (*w->p == '"')
        return skip_string(w);
    if (*w->p == '{' || *w->p == '[') {
        size_t d = 0;
        do {
            if (w->p >= w->end)
                return false;
            char ch = *w->p;
            if (ch == '"') {
                if (!skip_string(w))
                    return false;
                continue;
            }
            if (ch == '{' || ch == '[')
                d++;
            else if (ch == '}' || ch == ']')
                d--;
            else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
                return false;
            w->p++;
        } while (d > 0);
        return true;
    }
    while (w->p < w->end && *w->p != ',' && *w->p != '}' && *w->p != ']') {
        char ch = *w->p;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            return false;
        w->p++;
    }
    return true;
}

static int raw_object(const pnode *n, rw *w, int depth);

static void put_str(rw *w, const char *s, size_t len)
{
    memcpy(w->o, s, len);
    w->o += len;
}

/* The value at w->p under non-terminal node n: writes its projection,
 * preceded by pre[0..prelen) (e.g. ',"key":'), or nothing at all when the
 * projection is empty.  Returns 1 when something was written, 0 when
 * nothing, -1 when not sure. */
static int raw_under(const pnode *n, rw *w, const char *pre, size_t prelen, int depth)
{
    char *mark = w->o;
    int r;

    if (w->p >= w->end)
        return -1;
    if (*w->p == '{') {
        put_str(w, pre, prelen);
        *w->o++ = '{';
        r = raw_object(n, w, depth + 1);
        if (r < 0)
            return -1;
        if (r == 0) {
            w->o = mark;
            return 0;
        }
        *w->o++ = '}';
        return 1;
    }
    if (*w->p == '[') {
        int any = 0;
        put_str(w, pre, prelen);
        *w->o++ = '[';
        w->p++;
        if (w->p < w->end && *w->p == ']') {
            w->p++;
        } else {
            for (;;) {
                r = raw_under(n, w, ",", any ? 1 : 0, depth + 1);
                if (r < 0)
                    return -1;
                any |= r;
                if (w->p < w->end && *w->p == ',') {
                    w->p++;
                    continue;
                }
                if (w->p < w->end && *w->p == ']') {
                    w->p++;
                    break;
                }
                return -1;
            }
        }
        if (!any) {
            w->o = mark;
            return 0;
        }
        *w->o++ = ']';
        return 1;
    }
    return raw_skip(w) ? 0 : -1; /* the path continues past a scalar */
}

/* One selected member "key":value of an object; the key is s[0..len), w->p
 * at the value.  *count members written so far in this object. */
static int raw_member(const pnode *k, const char *s, size_t len, rw *w, size_t *count, int depth)
{
    char pre[1 + 1 + 256 + 2];
    size_t pl = 0;

    if (len > 256)
        return -1;
    if (*count)
        pre[pl++] = ',';
    pre[pl++] = '"';
    memcpy(pre + pl, s, len);
    pl += len;
    pre[pl++] = '"';
    pre[pl++] = ':';
    if (k->terminal) {
        put_str(w, pre, pl);
        if (!raw_value(w, true, depth))
            return -1;
        (*count)++;
        return 0;
    }
    int r = raw_under(k, w, pre, pl, depth);
    if (r < 0)
        return -1;
    *count += (size_t)r;
    return 0;
}

/* The object at w->p ('{') under n: writes its selected members (no braces).
 * Returns how many, or -1 when not sure. */
static int raw_object(const pnode *n, rw *w, int depth)
{
    uint64_t seen = 0;
    size_t count = 0;

    if (depth > 64 || n->nkids > 64)
        return -1;
    w->p++;
    if (w->p < w->end && *w->p == '}') {
        w->p++;
        return 0;
    }
    for (;;) {
        const char *s;
        size_t len;
        if (w->p >= w->end || *w->p != '"' || !raw_string(w, &s, &len))
            return -1;
        if (w->p >= w->end || *w->p != ':')
            return -1;
        w->p++;
        const pnode *k = NULL;
        size_t ki = 0;
        for (; ki < n->nkids; ki++) {
            if (strncmp(n->kids[ki].name, s, len) == 0 && n->kids[ki].name[len] == '\0') {
                k = &n->kids[ki];
                break;
            }
        }
        if (k) {
            if (seen & (UINT64_C(1) << ki))
                return -1; /* duplicate key: json-c keeps the last value */
            seen |= UINT64_C(1) << ki;
            if (raw_member(k, s, len, w, &count, depth) != 0)
                return -1;
        } else if (!raw_skip(w)) {
            return -1;
        }
        if (w->p < w->end && *w->p == ',') {
            w->p++;
            continue;
        }
        if (w->p < w->end && *w->p == '}') {
            w->p++;
            break;
        }
        return -1;
    }
    return count > INT32_MAX ? -1 : (int)count;
}

bool se_proj_raw_ok(const se_proj *pj)
{
    if (!pj || pj->root.nkids > 64)
        return false;
    for (size_t i = 0; i < pj->root.nkids; i++) {
        const char *s = pj->root.kids[i].name;
        if (!strcmp(s, "identityMap") || !strcmp(s, "segmentMembership") ||
            !strcmp(s, "_acp_system_metadata") || !strcmp(s, "timestamp") ||
            !strncmp(s, "xdm:", 4))
            return false;
    }
    return true;
}

int se_proj_raw(const se_proj *pj, const char *rec, const se_scan *sc, char *out, size_t *outlen)
{
    uint64_t seen = 0;
    size_t count = 0;
    rw w = { .o = out };

    if (!pj || !sc->members_ok || pj->root.nkids > 64)
        return 0;
    *w.o++ = '{';
    for (size_t i = 0; i < sc->nmembers; i++) {
        const se_scan_member *m = &sc->members[i];
        const char *name = rec + m->name_off;
        size_t ki = 0;
        const pnode *k = NULL;
        for (; ki < pj->root.nkids; ki++) {
            if (strncmp(pj->root.kids[ki].name, name, m->name_len) == 0 &&
                pj->root.kids[ki].name[m->name_len] == '\0') {
                k = &pj->root.kids[ki];
                break;
            }
        }
        if (!k)
            continue;
        if (memchr(name, '\\', m->name_len) || (seen & (UINT64_C(1) << ki)))
            return 0;
        seen |= UINT64_C(1) << ki;
        if (name[m->name_len] != '"' || name[m->name_len + 1] != ':')
            return 0;
        w.p = name + m->name_len + 2;
        w.end = rec + m->off + m->len;
        if (raw_member(k, name, m->name_len, &w, &count, 1) != 0 || w.p != w.end)
            return 0;
    }
    *w.o++ = '}';
    *outlen = (size_t)(w.o - out);
    return 1;
}

/* mergepolicy.c -- the merge policy registry.
 *
 * The registry is a flat array: a job names one policy, and a definitions file
 * holds a handful, so a linear search is all that is needed.  A load either adds
 * all of a file's policies or none of them, so a bad file leaves the registry as
 * it was. */
#include "mergepolicy.h"
#include "jsonscan.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

struct se_mp_registry {
    se_mpolicy *v;
    size_t n, cap;
};

#define BUILTIN_ID "timestampOrdered-none-mp"

static const se_mpolicy builtin = {
    .id = BUILTIN_ID, .version = 1, .attr = SE_ATTR_TIMESTAMP_ORDERED,
    .order = NULL, .norder = 0, .graph = SE_GRAPH_NONE,
};

static void policy_clear(se_mpolicy *p)
{
    free(p->id);
    for (size_t i = 0; i < p->norder; i++)
        free(p->order[i]);
    free(p->order);
    memset(p, 0, sizeof *p);
}

/* Appends p (taking its contents) or, when id+version is already present,
 * replaces that entry.  -1 on out of memory (p untouched then). */
static int registry_put(se_mp_registry *reg, se_mpolicy *p)
{
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->v[i].version == p->version && strcmp(reg->v[i].id, p->id) == 0) {
            policy_clear(&reg->v[i]);
            reg->v[i] = *p;
            memset(p, 0, sizeof *p);
            return 0;
        }
    }
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 4;
        se_mpolicy *nv = realloc(reg->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        reg->v = nv;
        reg->cap = cap;
    }
    reg->v[reg->n++] = *p;
    memset(p, 0, sizeof *p);
    return 0;
}

se_mp_registry *se_mp_registry_new(void)
{
    se_mp_registry *reg = calloc(1, sizeof *reg);
    se_mpolicy p = builtin;

    if (!reg)
        return NULL;
    /* The built-in is a registry entry like any other, so a file may redefine it. */
    p.id = strdup(builtin.id);
    if (!p.id || registry_put(reg, &p) != 0) {
        free(p.id);
        free(reg);
        return NULL;
    }
    return reg;
}

void se_mp_registry_free(se_mp_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++)
        policy_clear(&reg->v[i]);
    free(reg->v);
    free(reg);
}

const se_mpolicy *se_mp_find(const se_mp_registry *reg, const char *id, int version)
{
    if (!id)
        return NULL;
    if (!reg) /* no registry: the built-in alone */
        return version == builtin.version && strcmp(id, builtin.id) == 0 ? &builtin : NULL;
    for (size_t i = 0; i < reg->n; i++)
        if (reg->v[i].version == version && strcmp(reg->v[i].id, id) == 0)
            return &reg->v[i];
    return NULL;
}

const se_mpolicy *se_mp_find_latest(const se_mp_registry *reg, const char *id)
{
    const se_mpolicy *best = NULL;
    if (!id)
        return NULL;
    if (!reg) /* no registry: the built-in alone */
        return strcmp(id, builtin.id) == 0 ? &builtin : NULL;
    for (size_t i = 0; reg && i < reg->n; i++)
        if (strcmp(reg->v[i].id, id) == 0 && (!best || reg->v[i].version > best->version))
            best = &reg->v[i];
    return best;
}

/* ---- loading ---------------------------------------------------------- */

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
} lctx;

static int fail(lctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(lctx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        int n = snprintf(c->err, c->errlen, "%s: ", c->file);
        if (n >= 0 && (size_t)n < c->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* Reads all of path into a malloc'd buffer.  -1 with errno set on failure. */
static int read_file(const char *path, char **out, size_t *outlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1, saved;

    if (!f)
        return -1;
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                errno = ENOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        errno = 0;
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                if (errno == 0)
                    errno = EIO;
                goto out;
            }
            break;
        }
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    rc = 0;
out:
    saved = errno;
    free(buf);
    fclose(f);
    errno = saved;
    return rc;
}

/* Parses text[0..len) as one JSON value with nothing but whitespace after it,
 * into *out (NULL for the JSON text "null").  -1 with err set ("malformed JSON
 * at line L: ...", or "out of memory"). */
static int parse_json(lctx *c, const char *text, size_t len, json_object **out)
{
    char err[256];
    if (se_json_parse_document(text, len, out, err, sizeof err))
        return fail(c, "%s", err);
    return 0;
}

static int is_nonempty_string(json_object *v)
{
    return json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0;
}

/* Fills *p from the policy object o found at path (e.g. "[2]").  -1 with err set. */
static int parse_policy(lctx *c, const char *path, json_object *o, se_mpolicy *p)
{
    json_object *v, *am = NULL, *ig = NULL, *t;

    if (!json_object_is_type(o, json_type_object))
        return fail(c, "%s: expected an object", path);

    if (!json_object_object_get_ex(o, "id", &v) || v == NULL)
        return fail(c, "%s.id: required", path);
    if (!json_object_is_type(v, json_type_string))
        return fail(c, "%s.id: expected a string", path);
    if (!is_nonempty_string(v))
        return fail(c, "%s.id: required", path);
    if (!(p->id = strdup(json_object_get_string(v))))
        return fail(c, "out of memory");

    p->version = 1;
    if (json_object_object_get_ex(o, "version", &v) && v) {
        if (!json_object_is_type(v, json_type_int))
            return fail(c, "%s.version: expected an integer", path);
        int64_t ver = json_object_get_int64(v);
        if (ver < 1 || ver > INT_MAX)
            return fail(c, "%s.version: must be an integer from 1 to %d", path, INT_MAX);
        p->version = (int)ver;
    }

    p->attr = SE_ATTR_TIMESTAMP_ORDERED;
    if (json_object_object_get_ex(o, "attributeMerge", &am) && am) {
        if (!json_object_is_type(am, json_type_object))
            return fail(c, "%s.attributeMerge: expected an object", path);
        if (json_object_object_get_ex(am, "type", &t) && t) {
            const char *s;
            if (!json_object_is_type(t, json_type_string))
                return fail(c, "%s.attributeMerge.type: expected a string", path);
            s = json_object_get_string(t);
            if (strcmp(s, "timestampOrdered") == 0)
                p->attr = SE_ATTR_TIMESTAMP_ORDERED;
            else if (strcmp(s, "dataSetPrecedence") == 0)
                p->attr = SE_ATTR_DATASET_PRECEDENCE;
            else
                return fail(c, "%s.attributeMerge.type: \"%.64s\" is not one of "
                               "timestampOrdered, dataSetPrecedence", path, s);
        }
    }

    if (p->attr == SE_ATTR_DATASET_PRECEDENCE) {
        json_object *ord = NULL;
        size_t n;
        if (!json_object_object_get_ex(am, "order", &ord) || !ord)
            return fail(c, "%s.attributeMerge.order: required", path);
        if (!json_object_is_type(ord, json_type_array))
            return fail(c, "%s.attributeMerge.order: expected an array", path);
        n = json_object_array_length(ord);
        if (n == 0)
            return fail(c, "%s.attributeMerge.order: must not be empty", path);
        if (!(p->order = calloc(n, sizeof *p->order)))
            return fail(c, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(ord, i);
            if (!json_object_is_type(e, json_type_string))
                return fail(c, "%s.attributeMerge.order[%zu]: expected a string", path, i);
            if (!is_nonempty_string(e))
                return fail(c, "%s.attributeMerge.order[%zu]: must not be empty", path, i);
            if (!(p->order[i] = strdup(json_object_get_string(e))))
                return fail(c, "out of memory");
            p->norder = i + 1;
        }
    }

    p->graph = SE_GRAPH_NONE;
    if (json_object_object_get_ex(o, "identityGraph", &ig) && ig) {
        if (!json_object_is_type(ig, json_type_object))
            return fail(c, "%s.identityGraph: expected an object", path);
        if (json_object_object_get_ex(ig, "type", &t) && t) {
            const char *s;
            if (!json_object_is_type(t, json_type_string))
                return fail(c, "%s.identityGraph.type: expected a string", path);
            s = json_object_get_string(t);
            if (strcmp(s, "none") == 0)
                p->graph = SE_GRAPH_NONE;
            else if (strcmp(s, "pdg") == 0)
                p->graph = SE_GRAPH_PDG;
            else
                return fail(c, "%s.identityGraph.type: \"%.64s\" is not one of none, pdg",
                            path, s);
        }
    }
    return 0;
}

int se_mp_registry_load(se_mp_registry *reg, const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (read_file(path, &text, &len) != 0) {
        lctx c = {path, err, errlen};
        return fail(&c, "%s", strerror(errno));
    }
    rc = se_mp_registry_parse(reg, text, len, path, err, errlen);
    free(text);
    return rc;
}

int se_mp_registry_parse(se_mp_registry *reg, const char *text, size_t len, const char *name,
                         char *err, size_t errlen)
{
    lctx c = {name, err, errlen};
    size_t n = 0, done = 0;
    json_object *root = NULL, *arr = NULL;
    se_mpolicy *tmp = NULL;
    const char *prefix = "";
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (parse_json(&c, text, len, &root))
        goto out;

    if (json_object_is_type(root, json_type_array)) {
        arr = root;
    } else if (json_object_is_type(root, json_type_object) &&
               json_object_object_get_ex(root, "children", &arr)) {
        if (!json_object_is_type(arr, json_type_array)) {
            fail(&c, "children: expected an array");
            goto out;
        }
        prefix = "children";
    } else {
        fail(&c, "(root): expected an array of merge policies or an object with \"children\"");
        goto out;
    }

    /* Parse everything first, so a bad entry leaves the registry untouched. */
    n = json_object_array_length(arr);
    if (n && !(tmp = calloc(n, sizeof *tmp))) {
        fail(&c, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char p[64];
        snprintf(p, sizeof p, "%s[%zu]", prefix, i);
        if (parse_policy(&c, p, json_object_array_get_idx(arr, i), &tmp[i]) != 0)
            goto out;
    }
    /* Make room up front, so the commit below cannot fail half way. */
    if (reg->cap - reg->n < n) {
        se_mpolicy *nv = realloc(reg->v, (reg->n + n) * sizeof *nv);
        if (!nv) {
            fail(&c, "out of memory");
            goto out;
        }
        reg->v = nv;
        reg->cap = reg->n + n;
    }
    for (; done < n; done++)
        registry_put(reg, &tmp[done]); /* cannot fail: capacity reserved */
    rc = 0;
    if (err && errlen)
        err[0] = '\0';
out:
    for (size_t i = done; tmp && i < n; i++)
        policy_clear(&tmp[i]);
    free(tmp);
    json_object_put(root);
    return rc;
}

/* segdefs.c -- --segment-definitions FILE: loading (every expression compiled
 * up front) and SPEC §8's recomputation of segmentMembership. */
#include "segdefs.h"
#include "fsutil.h"
#include "jsonscan.h"
#include "pql.h"
#include "timeutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEGDEFS_MAX_BYTES ((size_t)256 << 20)

typedef struct {
    char *id, *ns, *name;
    se_pql *q;
} segdef;

struct se_segdefs {
    segdef *v;
    size_t n;
};

typedef struct {
    const char *name;
    char *err;
    size_t errlen;
} lctx;

__attribute__((format(printf, 2, 3)))
static int fail(lctx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        int n = snprintf(c->err, c->errlen, "%s: ", c->name);
        if (n >= 0 && (size_t)n < c->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
        /* Messages quote the user's strings: keep them on one line. */
        for (char *p = c->err; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    return -1;
}

void se_segdefs_free(se_segdefs *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].id);
        free(d->v[i].ns);
        free(d->v[i].name);
        se_pql_free(d->v[i].q);
    }
    free(d->v);
    free(d);
}

/* An optional string member: 0 with *out NULL when absent or null. */
static int opt_string(lctx *c, json_object *o, const char *path, const char *key,
                      bool nonempty, const char **out)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return fail(c, "%s.%s: expected a string", path, key);
    if (nonempty && json_object_get_string_len(v) == 0)
        return fail(c, "%s.%s: must not be empty", path, key);
    if ((size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)))
        return fail(c, "%s.%s: NUL character in the string", path, key);
    *out = json_object_get_string(v);
    return 0;
}

static int parse_def(lctx *c, const char *path, json_object *o, segdef *s)
{
    json_object *ex, *v;
    const char *id, *ns, *name, *type, *format;
    char perr[512];

    if (!json_object_is_type(o, json_type_object))
        return fail(c, "%s: expected a segment definition object", path);
    if (opt_string(c, o, path, "id", true, &id))
        return -1;
    if (!id)
        return fail(c, "%s.id: required", path);
    if (opt_string(c, o, path, "namespace", true, &ns) ||
        opt_string(c, o, path, "name", false, &name))
        return -1;
    if (!json_object_object_get_ex(o, "expression", &ex) || ex == NULL)
        return fail(c, "%s.expression: required", path);
    if (!json_object_is_type(ex, json_type_object))
        return fail(c, "%s.expression: expected an object", path);
    char sub[300];
    snprintf(sub, sizeof sub, "%s.expression", path);
    if (opt_string(c, ex, sub, "type", false, &type) ||
        opt_string(c, ex, sub, "format", false, &format))
        return -1;
    if (!type)
        return fail(c, "%s.type: required", sub);
    if (strcmp(type, "PQL") != 0)
        return fail(c, "%s.type: \"%.64s\" is not PQL", sub, type);
    if (!format)
        return fail(c, "%s.format: required", sub);
    if (strcmp(format, "pql/text") != 0)
        return fail(c, "%s.format: \"%.64s\" is not supported (only pql/text)", sub, format);
    if (!json_object_object_get_ex(ex, "value", &v) || v == NULL)
        return fail(c, "%s.value: required", sub);
    if (!json_object_is_type(v, json_type_string))
        return fail(c, "%s.value: expected a string", sub);
    if ((size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)))
        return fail(c, "%s.value: NUL character in the expression", sub);
    if (se_pql_compile(json_object_get_string(v), &s->q, perr, sizeof perr)) {
        /* Users know their segments by id (and name): SPEC §8. */
        if (name && *name)
            return fail(c, "segment \"%.128s\" (\"%.128s\"): %s", id, name, perr);
        return fail(c, "segment \"%.128s\": %s", id, perr);
    }
    if (!(s->id = strdup(id)) || !(s->ns = strdup(ns ? ns : "ups")) ||
        !(s->name = strdup(name ? name : "")))
        return fail(c, "out of memory");
    return 0;
}

int se_segdefs_parse(const char *text, size_t len, const char *name, se_segdefs **out,
                     char *err, size_t errlen)
{
    lctx c = {name, err, errlen};
    json_object *root = NULL, *arr = NULL;
    se_segdefs *d = NULL;
    const char *prefix = "";
    char jerr[256];
    int rc = -1;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (se_json_parse_document(text, len, &root, jerr, sizeof jerr)) {
        fail(&c, "%s", jerr);
        goto out;
    }
    if (json_object_is_type(root, json_type_array)) {
        arr = root;
    } else if (json_object_is_type(root, json_type_object) &&
               json_object_object_get_ex(root, "segments", &arr)) {
        if (!json_object_is_type(arr, json_type_array)) {
            fail(&c, "segments: expected an array");
            goto out;
        }
        prefix = "segments";
    } else {
        fail(&c, "(root): expected an array of segment definitions or an object with \"segments\"");
        goto out;
    }
    if (!(d = calloc(1, sizeof *d))) {
        fail(&c, "out of memory");
        goto out;
    }
    size_t n = json_object_array_length(arr);
    if (n && !(d->v = calloc(n, sizeof *d->v))) {
        fail(&c, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s[%zu]", prefix, i);
        d->n = i + 1; /* so that a half-filled entry is freed */
        if (parse_def(&c, path, json_object_array_get_idx(arr, i), &d->v[i]))
            goto out;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(d->v[j].id, d->v[i].id) == 0 && strcmp(d->v[j].ns, d->v[i].ns) == 0) {
                fail(&c, "%s.id: segment \"%.128s\" in namespace \"%.64s\" is already "
                         "defined at %s[%zu]", path, d->v[i].id, d->v[i].ns, prefix, j);
                goto out;
            }
        }
    }
    *out = d;
    d = NULL;
    rc = 0;
out:
    se_segdefs_free(d);
    json_object_put(root);
    return rc;
}

int se_segdefs_load(const char *path, se_segdefs **out, char *err, size_t errlen)
{
    size_t len = 0;
    char *text;
    int rc;

    *out = NULL;
    if (!(text = se_slurp(path, SEGDEFS_MAX_BYTES, &len))) {
        lctx c = {path, err, errlen};
        return fail(&c, "%s", errno == EFBIG ? "file too large (over 256 MiB)" : strerror(errno));
    }
    rc = se_segdefs_parse(text, len, path, out, err, errlen);
    free(text);
    return rc;
}

size_t se_segdefs_count(const se_segdefs *d) { return d ? d->n : 0; }
const char *se_segdefs_id(const se_segdefs *d, size_t i) { return d->v[i].id; }
const char *se_segdefs_ns(const se_segdefs *d, size_t i) { return d->v[i].ns; }
const char *se_segdefs_name(const se_segdefs *d, size_t i) { return d->v[i].name; }

long se_segdefs_find(const se_segdefs *d, const char *ns, const char *id)
{
    for (size_t i = 0; d && i < d->n; i++)
        if (strcmp(d->v[i].id, id) == 0 && strcmp(d->v[i].ns, ns) == 0)
            return (long)i;
    return -1;
}

/* The object at o[key], created (or replacing a non-object) when absent. */
static json_object *child_obj(json_object *o, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_object))
        return v;
    if (!(v = json_object_new_object()))
        return NULL;
    if (json_object_object_add(o, key, v)) {
        json_object_put(v);
        return NULL;
    }
    return v;
}

static int set_string(json_object *o, const char *key, const char *s)
{
    json_object *v = json_object_new_string(s);
    if (!v)
        return -1;
    if (json_object_object_add(o, key, v)) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* Evaluates every definition on tapes; raw as se_pql_eval_tape's.  0, or
 * -1 out of memory. */
static int eval_all(const se_segdefs *d, const se_tape *profile, const se_tape *const *events,
                    size_t nevents, int64_t now_ms, bool raw, bool *match)
{
    for (size_t i = 0; i < d->n; i++)
        if (se_pql_eval_tape(d->v[i].q, profile, events, nevents, now_ms, raw, &match[i]))
            return -1;
    return 0;
}

int se_segdefs_eval_tape(const se_segdefs *d, const se_tape *profile,
                         const se_tape *const *events, size_t nevents, int64_t now_ms,
                         bool *match, char *err, size_t errlen)
{
    lctx c = {"segment evaluation", err, errlen};

    if (err && errlen)
        err[0] = '\0';
    if (!events)
        nevents = 0;
    if (se_segdefs_count(d) == 0)
        return 1;
    if (profile->n == 0 || profile->t[0].kind != SE_TK_OBJ || !se_pql_tape_plain(profile))
        return 0;
    for (size_t i = 0; i < nevents; i++)
        if (events[i] && !se_pql_tape_plain(events[i]))
            return 0;
    if (eval_all(d, profile, events, nevents, now_ms, true, match))
        return fail(&c, "out of memory");
    return 1;
}

/* A string member's value compared as json-c's C string view (what strcmp on
 * json_object_get_string sees: up to a NUL). */
static bool cstr_is(const char *s, size_t n, const char *lit)
{
    const char *nul = memchr(s, '\0', n);
    size_t len = nul ? (size_t)(nul - s) : n;
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static bool xdm_key(const se_tape *tp, uint32_t k)
{
    const se_tok *t = &tp->t[k];
    return (t->flags & SE_TF_ESC) || (t->len >= 4 && memcmp(tp->s + t->off, "xdm:", 4) == 0);
}

bool se_segdefs_edit_changes(const se_segdefs *d, const se_tape *profile, const bool *match)
{
    const se_tape *tp = profile;
    uint32_t sm;

    if (se_segdefs_count(d) == 0)
        return false;
    if (tp->n == 0 || tp->t[0].kind != SE_TK_OBJ)
        return true; /* se_segdefs_edit fails: let it say so */
    /* A raw record whose normalization could move segmentMembership: not sure,
     * so a change. */
    SE_TAPE_EACH_MEMBER(tp, 0, k)
        if (se_tape_str_eq(tp, k, "xdm:segmentMembership", 21))
            return true;
    sm = se_tape_get(tp, 0, "segmentMembership", 17);
    for (size_t i = 0; i < d->n; i++) {
        const segdef *s = &d->v[i];
        uint32_t nso = sm ? se_tape_get(tp, sm, s->ns, strlen(s->ns)) : 0;
        uint32_t m = nso ? se_tape_get(tp, nso, s->id, strlen(s->id)) : 0;
        if (!match[i]) {
            /* unchanged only when there is no entry to exit or remove */
            if (m)
                return true;
            continue;
        }
        /* unchanged only when already realized with a time */
        if (!m || tp->t[m].kind != SE_TK_OBJ)
            return true;
        SE_TAPE_EACH_MEMBER(tp, m, k)
            if (xdm_key(tp, k))
                return true; /* its normalization renames keys: not sure */
        uint32_t st = se_tape_get(tp, m, "status", 6);
        uint32_t lqt = se_tape_get(tp, m, "lastQualificationTime", 21);
        if (!st || tp->t[st].kind != SE_TK_STR || !se_tape_str_eq(tp, st, "realized", 8) || !lqt ||
            tp->t[lqt].kind == SE_TK_NULL)
            return true;
    }
    return false;
}

int se_segdefs_edit(const se_segdefs *d, json_object *profile, const bool *match, int64_t now_ms,
                    char *err, size_t errlen)
{
    lctx c = {"segment evaluation", err, errlen};
    char now[40];

    if (err && errlen)
        err[0] = '\0';
    if (!json_object_is_type(profile, json_type_object))
        return fail(&c, "the profile is not an object");
    se_time_format(now_ms, now, sizeof now);

    for (size_t i = 0; i < se_segdefs_count(d); i++) {
        const segdef *s = &d->v[i];
        json_object *sm = NULL, *nso = NULL, *m = NULL, *st, *lqt;
        bool was_in = false;

        if (json_object_object_get_ex(profile, "segmentMembership", &sm) &&
            json_object_is_type(sm, json_type_object) &&
            json_object_object_get_ex(sm, s->ns, &nso) &&
            json_object_is_type(nso, json_type_object) &&
            json_object_object_get_ex(nso, s->id, &m) &&
            json_object_is_type(m, json_type_object) &&
            json_object_object_get_ex(m, "status", &st) &&
            json_object_is_type(st, json_type_string))
            was_in = cstr_is(json_object_get_string(st), (size_t)json_object_get_string_len(st),
                             "realized") ||
                     cstr_is(json_object_get_string(st), (size_t)json_object_get_string_len(st),
                             "existing");
        if (!json_object_is_type(m, json_type_object))
            m = NULL;

        if (match[i] || was_in) {
            if (!m) {
                if (!(sm = child_obj(profile, "segmentMembership")) ||
                    !(nso = child_obj(sm, s->ns)) ||
                    !(m = json_object_new_object()))
                    return fail(&c, "out of memory");
                if (json_object_object_add(nso, s->id, m)) {
                    json_object_put(m);
                    return fail(&c, "out of memory");
                }
            }
            bool keep_time = match[i] && was_in &&
                             json_object_object_get_ex(m, "lastQualificationTime", &lqt) &&
                             lqt != NULL;
            if (set_string(m, "status", match[i] ? "realized" : "exited") ||
                (!keep_time && set_string(m, "lastQualificationTime", now)))
                return fail(&c, "out of memory");
        } else if (nso && json_object_object_get_ex(nso, s->id, NULL)) {
            json_object_object_del(nso, s->id);
            if (json_object_object_length(nso) == 0) {
                json_object_object_del(sm, s->ns);
                if (json_object_object_length(sm) == 0)
                    json_object_object_del(profile, "segmentMembership");
            }
        }
    }
    return 0;
}

int se_segdefs_apply(const se_segdefs *d, json_object *profile, json_object *const *events,
                     size_t nevents, int64_t now_ms, char *err, size_t errlen)
{
    lctx c = {"segment evaluation", err, errlen};
    bool *match = NULL;
    se_tape pt, *et = NULL;
    const se_tape **ep = NULL;
    char *ptext = NULL, **etext = NULL;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (!json_object_is_type(profile, json_type_object))
        return fail(&c, "the profile is not an object");
    if (se_segdefs_count(d) == 0)
        return 0;
    if (!events)
        nevents = 0;
    se_tape_init(&pt);
    /* The fallback path: the trees are printed into tapes for the one
     * evaluator (se_segdefs_eval_tape is the engine's path). */
    if (!(match = calloc(d->n, sizeof *match)) ||
        (nevents && (!(et = calloc(nevents, sizeof *et)) || !(ep = calloc(nevents, sizeof *ep)) ||
                     !(etext = calloc(nevents, sizeof *etext)))) ||
        se_pql_tape_of(profile, &pt, &ptext)) {
        fail(&c, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nevents; i++) {
        if (!events[i])
            continue;
        if (se_pql_tape_of(events[i], &et[i], &etext[i])) {
            fail(&c, "out of memory");
            goto out;
        }
        ep[i] = &et[i];
    }
    if (eval_all(d, &pt, ep, nevents, now_ms, false, match)) {
        fail(&c, "out of memory");
        goto out;
    }
    rc = se_segdefs_edit(d, profile, match, now_ms, err, errlen);
out:
    for (size_t i = 0; et && i < nevents; i++) {
        se_tape_free(&et[i]);
        free(etext ? etext[i] : NULL);
    }
    se_tape_free(&pt);
    free(ptext);
    free(et);
    free(ep);
    free(etext);
    free(match);
    return rc;
}

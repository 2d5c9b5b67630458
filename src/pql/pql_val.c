/* pql_val.c -- PQL runtime values over record tapes (include/tape.h): values
 * made of tokens, json-c's meaning of what a tape holds (numbers, duplicate
 * keys, object equality), comparison, iteration over arrays and lists, the
 * normalized view of a raw record (se_pql_tape_plain), and the json-c
 * fallback that prints trees into tapes.
 *
 * A raw record read here is one that se_pql_tape_plain accepted: it reads as
 * se_record_parse's normalization of it but for its top-level
 * _acp_system_metadata, which the lookups and iterations below hide. */
#include "pql_ast.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ACP[] = "_acp_system_metadata";

/* ---------------------------------------------------------------- objects */

static bool hidden(const ectx *c, const se_tape *tp, uint32_t o, uint32_t k)
{
    return c->raw && o == 0 && se_tape_str_eq(tp, k, ACP, sizeof ACP - 1);
}

/* se_tape_get, with the comparison of keys without escapes inlined: the
 * lookup is most of what evaluating a path costs. */
static uint32_t get(const se_tape *tp, uint32_t o, const char *k, size_t kn)
{
    uint32_t found = 0;
    if (tp->t[o].kind != SE_TK_OBJ)
        return 0;
    SE_TAPE_EACH_MEMBER(tp, o, m) {
        const se_tok *t = &tp->t[m];
        if (t->flags & SE_TF_ESC) {
            if (se_tape_str_eq(tp, m, k, kn))
                found = m + 1;
        } else if (t->len == kn && (kn == 0 || (tp->s[t->off] == k[0] &&
                                                memcmp(tp->s + t->off, k, kn) == 0))) {
            found = m + 1;
        }
    }
    return found;
}

uint32_t pql_obj_get(const ectx *c, const se_tape *tp, uint32_t o, const char *k, size_t kn)
{
    if (c->raw && o == 0 && kn == sizeof ACP - 1 && memcmp(k, ACP, kn) == 0)
        return 0;
    return get(tp, o, k, kn);
}

bool pql_key_visible(const ectx *c, const se_tape *tp, uint32_t o, uint32_t k)
{
    return se_tape_first_key(tp, o, k) && !hidden(c, tp, o, k);
}

static size_t obj_count(const ectx *c, const se_tape *tp, uint32_t o)
{
    size_t n = 0;
    SE_TAPE_EACH_MEMBER(tp, o, k)
        n += pql_key_visible(c, tp, o, k);
    return n;
}

/* ---------------------------------------------------------------- values */

/* A double token as json-c parses it (strtod; NaN and Infinity by name). */
static double tok_double(ectx *c, const se_tape *tp, uint32_t i)
{
    const se_tok *t = &tp->t[i];
    const char *s = tp->s + t->off;
    char buf[64], *b = buf;
    if (t->flags & SE_TF_NAN)
        return NAN;
    if (t->flags & SE_TF_INF)
        return s[0] == '-' ? -INFINITY : INFINITY;
    if (t->len >= sizeof buf && !(b = pql_alloc(c, t->len + 1)))
        return 0;
    memcpy(b, s, t->len);
    b[t->len] = '\0';
    return strtod(b, NULL);
}

val pql_val_tok(ectx *c, const se_tape *tp, uint32_t i)
{
    const se_tok *t = &tp->t[i];
    val v;
    memset(&v, 0, sizeof v);
    switch (t->kind) {
    case SE_TK_OBJ: case SE_TK_ARR:
        v.k = t->kind == SE_TK_OBJ ? V_OBJ : V_ARR;
        v.tp = tp;
        v.n = i;
        break;
    case SE_TK_STR:
        v.k = V_STR;
        if (!(t->flags & SE_TF_ESC)) {
            v.s = tp->s + t->off;
            v.n = t->len;
        } else {
            char *b = pql_alloc(c, (size_t)t->len + 1);
            if (!b) {
                v.k = V_NULL; /* c->oom is set */
                break;
            }
            v.n = se_tape_unescape(tp, i, b);
            b[v.n] = '\0';
            v.s = b;
        }
        break;
    case SE_TK_NUM:
        if (t->flags & SE_TF_DBL) {
            v.k = V_DBL;
            v.d = tok_double(c, tp, i);
        } else {
            bool big;
            uint64_t u;
            v.k = V_INT;
            v.i = se_tape_int(tp, i, &big, &u); /* above INT64_MAX: INT64_MAX, as json-c gives */
        }
        break;
    case SE_TK_TRUE: case SE_TK_FALSE:
        v.k = V_BOOL;
        v.b = t->kind == SE_TK_TRUE;
        break;
    default:
        break;
    }
    return v;
}

const char *pql_cstr(ectx *c, const val *v)
{
    if (v->k != V_STR || memchr(v->s, '\0', v->n))
        return NULL;
    /* A string read from a text is followed by its closing quote, any other
     * by a NUL: s[n] is always readable. */
    if (v->s[v->n] == '\0')
        return v->s;
    char *b = pql_alloc(c, v->n + 1);
    if (!b)
        return NULL;
    memcpy(b, v->s, v->n);
    b[v->n] = '\0';
    return b;
}

/* ---------------------------------------------------------------- sequences */

size_t pql_seq_len(const val *v)
{
    return v->k == V_ARR ? v->tp->t[v->n].len : v->k == V_LIST ? v->n : 0;
}

bool pql_seq_next(ectx *c, const val *v, seqit *it, val *out)
{
    if (v->k == V_LIST) {
        if (it->i >= v->n)
            return false;
        *out = v->items[it->i++];
        return true;
    }
    if (v->k != V_ARR)
        return false;
    uint32_t a = (uint32_t)v->n;
    if (it->e == 0)
        it->e = a + 1;
    if (it->e >= v->tp->t[a].end)
        return false;
    *out = pql_val_tok(c, v->tp, it->e);
    it->e = v->tp->t[it->e].end;
    it->i++;
    return true;
}

val pql_seq_first(ectx *c, const val *v)
{
    seqit it = {0};
    val r;
    if (!pql_seq_next(c, v, &it, &r))
        memset(&r, 0, sizeof r);
    return r;
}

/* ---------------------------------------------------------------- comparison */

/* json_object_equal on two tape values. */
static bool tok_equal(ectx *c, const se_tape *ta, uint32_t a, const se_tape *tb, uint32_t b)
{
    const se_tok *x = &ta->t[a], *y = &tb->t[b];
    int kx = x->kind == SE_TK_FALSE ? SE_TK_TRUE : x->kind;
    int ky = y->kind == SE_TK_FALSE ? SE_TK_TRUE : y->kind;
    if (ta == tb && a == b)
        return true; /* json-c: the same object (NaN inside or not) */
    if (kx != ky)
        return false;
    switch (x->kind) {
    case SE_TK_NULL:
        return true;
    case SE_TK_TRUE: case SE_TK_FALSE:
        return x->kind == y->kind;
    case SE_TK_NUM: {
        bool dx = x->flags & SE_TF_DBL, dy = y->flags & SE_TF_DBL, bx, by;
        uint64_t ux, uy;
        if (dx != dy)
            return false; /* json-c: int and double are different types */
        if (dx)
            return tok_double(c, ta, a) == tok_double(c, tb, b);
        int64_t ix = se_tape_int(ta, a, &bx, &ux), iy = se_tape_int(tb, b, &by, &uy);
        return bx == by && (bx ? ux == uy : ix == iy);
    }
    case SE_TK_STR: {
        val sx = pql_val_tok(c, ta, a), sy = pql_val_tok(c, tb, b);
        return sx.k == V_STR && sy.k == V_STR && sx.n == sy.n && memcmp(sx.s, sy.s, sx.n) == 0;
    }
    case SE_TK_ARR:
        if (x->len != y->len)
            return false;
        for (uint32_t e = a + 1, f = b + 1; e < x->end; e = ta->t[e].end, f = tb->t[f].end)
            if (!tok_equal(c, ta, e, tb, f))
                return false;
        return true;
    default: /* objects: the same names, equal values */
        if (obj_count(c, ta, a) != obj_count(c, tb, b))
            return false;
        SE_TAPE_EACH_MEMBER(ta, a, k) {
            if (!pql_key_visible(c, ta, a, k))
                continue;
            val name = pql_val_tok(c, ta, k);
            uint32_t w;
            if (name.k != V_STR || !(w = pql_obj_get(c, tb, b, name.s, name.n)) ||
                !tok_equal(c, ta, se_tape_last_value(ta, a, k), tb, w))
                return false;
        }
        return true;
    }
}

static int is_num(const val *v) { return v->k == V_INT || v->k == V_DBL; }
static double num_d(const val *v) { return v->k == V_INT ? (double)v->i : v->d; }

int pql_vcmp(ectx *c, const val *a, const val *b)
{
    if (a->k == V_NULL || b->k == V_NULL)
        return 2;
    if (is_num(a) && is_num(b)) {
        if (a->k == V_INT && b->k == V_INT)
            return a->i < b->i ? -1 : a->i > b->i;
        double x = num_d(a), y = num_d(b);
        if (x != x || y != y)
            return 2;
        return x < y ? -1 : x > y;
    }
    bool sa = a->k == V_ARR || a->k == V_LIST, sb = b->k == V_ARR || b->k == V_LIST;
    if (sa && sb) {
        if (pql_seq_len(a) != pql_seq_len(b))
            return 3;
        seqit ia = {0}, ib = {0};
        val x, y;
        while (pql_seq_next(c, a, &ia, &x) && pql_seq_next(c, b, &ib, &y))
            if (pql_vcmp(c, &x, &y) != 0)
                return 3;
        return 0;
    }
    if (a->k != b->k)
        return 2;
    switch (a->k) {
    case V_BOOL: return a->b == b->b ? 0 : 3;
    case V_STR: return a->n == b->n && memcmp(a->s, b->s, a->n) == 0 ? 0 : 3;
    case V_OBJ: return tok_equal(c, a->tp, (uint32_t)a->n, b->tp, (uint32_t)b->n) ? 0 : 3;
    case V_DATE: return a->i < b->i ? -1 : a->i > b->i;
    default: return 2;
    }
}

bool pql_truthy(const val *v)
{
    switch (v->k) {
    case V_NULL: return false;
    case V_BOOL: return v->b;
    case V_ARR: case V_LIST: return pql_seq_len(v) > 0;
    default: return true;
    }
}

/* ---------------------------------------------------------------- raw records */

/* Whether key k may be "xdm:..." once unescaped (escaped keys: maybe). */
static bool xdm_prefixed(const se_tape *tp, uint32_t k)
{
    const se_tok *t = &tp->t[k];
    return (t->flags & SE_TF_ESC) || (t->len >= 4 && memcmp(tp->s + t->off, "xdm:", 4) == 0);
}

static bool key_is(const se_tape *tp, uint32_t k, const char *s)
{
    return xdm_prefixed(tp, k) && se_tape_str_eq(tp, k, s, strlen(s));
}

bool se_pql_tape_plain(const se_tape *tp)
{
    uint32_t im = 0, sm = 0;
    if (tp->n == 0 || tp->t[0].kind != SE_TK_OBJ)
        return true;
    SE_TAPE_EACH_MEMBER(tp, 0, k) {
        const se_tok *t = &tp->t[k];
        if (xdm_prefixed(tp, k)) {
            if (key_is(tp, k, "xdm:identityMap") || key_is(tp, k, "xdm:segmentMembership") ||
                key_is(tp, k, "xdm:timestamp"))
                return false;
            continue;
        }
        if (t->len == 11 && memcmp(tp->s + t->off, "identityMap", 11) == 0)
            im = k + 1; /* the last one: json-c's */
        else if (t->len == 17 && memcmp(tp->s + t->off, "segmentMembership", 17) == 0)
            sm = k + 1;
    }
    /* Every member is looked at, duplicates too: more than json-c keeps. */
    if (im && tp->t[im].kind == SE_TK_OBJ)
        SE_TAPE_EACH_MEMBER(tp, im, ns) {
            if (tp->t[ns + 1].kind != SE_TK_ARR)
                continue;
            SE_TAPE_EACH_ELEM(tp, ns + 1, it) {
                if (tp->t[it].kind != SE_TK_OBJ)
                    continue;
                SE_TAPE_EACH_MEMBER(tp, it, k)
                    if (xdm_prefixed(tp, k) &&
                        (key_is(tp, k, "xdm:id") || key_is(tp, k, "xdm:primary") ||
                         key_is(tp, k, "xdm:authenticatedState")))
                        return false;
            }
        }
    if (sm && tp->t[sm].kind == SE_TK_OBJ)
        SE_TAPE_EACH_MEMBER(tp, sm, ns) {
            if (tp->t[ns + 1].kind != SE_TK_OBJ)
                continue;
            SE_TAPE_EACH_MEMBER(tp, ns + 1, seg) {
                if (tp->t[seg + 1].kind != SE_TK_OBJ)
                    continue;
                SE_TAPE_EACH_MEMBER(tp, seg + 1, k)
                    if (xdm_prefixed(tp, k))
                        return false;
            }
        }
    return true;
}

/* ---------------------------------------------------------------- json-c trees */

/* A small printer of json-c trees (json-c's own, with its printbuf, costs
 * six times as much and caches the text in the tree): strings escaped only
 * where JSON needs it, integers as json-c holds them, doubles with 17
 * digits (they parse back to the same double) and always as doubles. */
typedef struct { char *s; size_t n, cap; bool oom; } sbuf;

/* Room for n more bytes (and a NUL); false when out of memory. */
static bool sb_room(sbuf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->cap - b->n < n + 1) {
        size_t nc = b->cap ? b->cap : 1024;
        while (nc - b->n < n + 1)
            nc *= 2;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = true;
            return false;
        }
        b->s = ns;
        b->cap = nc;
    }
    return true;
}

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (!sb_room(b, n))
        return;
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (!sb_room(b, 6 * n + 2)) /* every byte escaped as \u00XX at worst */
        return;
    char *o = b->s + b->n;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            *o++ = (char)ch;
        } else if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = (char)ch;
        } else {
            memcpy(o, "\\u00", 4);
            o[4] = hex[ch >> 4];
            o[5] = hex[ch & 15];
            o += 6;
        }
    }
    *o++ = '"';
    *o = '\0';
    b->n = (size_t)(o - b->s);
}

static void sb_json(sbuf *b, json_object *j)
{
    char t[40];
    switch (json_object_get_type(j)) {
    case json_type_boolean:
        if (json_object_get_boolean(j))
            sb_put(b, "true", 4);
        else
            sb_put(b, "false", 5);
        break;
    case json_type_int: {
        int64_t i = json_object_get_int64(j);
        if (i == INT64_MAX) /* or a uint64 above it */
            snprintf(t, sizeof t, "%" PRIu64, json_object_get_uint64(j));
        else
            snprintf(t, sizeof t, "%" PRId64, i);
        sb_put(b, t, strlen(t));
        break;
    }
    case json_type_double: {
        double d = json_object_get_double(j);
        if (isnan(d))
            snprintf(t, sizeof t, "NaN");
        else if (isinf(d))
            snprintf(t, sizeof t, "%s", d > 0 ? "Infinity" : "-Infinity");
        else if (snprintf(t, sizeof t, "%.17g", d) > 0 && !strpbrk(t, ".e"))
            strcat(t, ".0");
        sb_put(b, t, strlen(t));
        break;
    }
    case json_type_string:
        sb_str(b, json_object_get_string(j), (size_t)json_object_get_string_len(j));
        break;
    case json_type_array: {
        size_t n = json_object_array_length(j);
        sb_put(b, "[", 1);
        for (size_t i = 0; i < n && !b->oom; i++) {
            if (i)
                sb_put(b, ",", 1);
            sb_json(b, json_object_array_get_idx(j, i));
        }
        sb_put(b, "]", 1);
        break;
    }
    case json_type_object: {
        bool first = true;
        sb_put(b, "{", 1);
        json_object_object_foreach(j, key, v) {
            if (!first)
                sb_put(b, ",", 1);
            first = false;
            sb_str(b, key, strlen(key));
            sb_put(b, ":", 1);
            sb_json(b, v);
            if (b->oom)
                break;
        }
        sb_put(b, "}", 1);
        break;
    }
    default:
        sb_put(b, "null", 4);
        break;
    }
}

int se_pql_tape_of(json_object *j, se_tape *tp, char **text)
{
    sbuf b = {NULL, 0, 0, false};
    *text = NULL;
    sb_json(&b, j);
    if (b.oom) {
        free(b.s);
        return -1;
    }
    *text = b.s;
    return se_tape_parse(tp, b.s, b.n) == SE_TAPE_OK ? 0 : -1;
}

int se_pql_eval(const se_pql *q, json_object *profile, json_object *const *events,
                size_t nevents, int64_t now_ms, bool *match)
{
    se_tape pt, *et = NULL;
    const se_tape **ep = NULL;
    char *ptext = NULL, **etext = NULL;
    int rc = -1;

    *match = false;
    if (!events)
        nevents = 0;
    se_tape_init(&pt);
    if (nevents && (!(et = calloc(nevents, sizeof *et)) || !(ep = calloc(nevents, sizeof *ep)) ||
                    !(etext = calloc(nevents, sizeof *etext))))
        goto out;
    if (se_pql_tape_of(profile, &pt, &ptext))
        goto out;
    for (size_t i = 0; i < nevents; i++) {
        if (!events[i])
            continue;
        if (se_pql_tape_of(events[i], &et[i], &etext[i]))
            goto out;
        ep[i] = &et[i];
    }
    rc = se_pql_eval_tape(q, &pt, ep, nevents, now_ms, false, match);
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
    return rc;
}

/* pql_eval.c -- evaluation of a compiled PQL subset (pql_ast.h, built by
 * pql_parse.c) over one merged profile and its ExperienceEvents, with the
 * calendar arithmetic that occurs needs (se_pql_eval).  docs/pql.md is the
 * contract; keep the two in step.
 *
 * Values are borrowed from the profile/event JSON (never copied); literals
 * belong to the compiled tree.  Null rules (kirby PQL reference): a
 * comparison, string function, in/notIn, like or occurs with a null (absent)
 * operand is false; a null in boolean position is false. */
#include "pql_ast.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- evaluator */

typedef struct {
    json_object *profile;
    json_object *const *events;
    size_t nevents;
    int64_t now, today;
    json_object *vars[MAX_VARS];
    int oom;
} ectx;

static val val_of(json_object *j)
{
    val v;
    memset(&v, 0, sizeof v);
    switch (json_object_get_type(j)) {
    case json_type_boolean:
        v.k = V_BOOL;
        v.b = json_object_get_boolean(j);
        break;
    case json_type_int:
        v.k = V_INT;
        v.i = json_object_get_int64(j);
        break;
    case json_type_double:
        v.k = V_DBL;
        v.d = json_object_get_double(j);
        break;
    case json_type_string:
        v.k = V_STR;
        v.s = json_object_get_string(j);
        v.n = (size_t)json_object_get_string_len(j);
        break;
    case json_type_array:
        v.k = V_ARR;
        v.j = j;
        break;
    case json_type_object:
        v.k = V_OBJ;
        v.j = j;
        break;
    default:
        v.k = V_NULL;
        break;
    }
    return v;
}

/* The JSON a path names, or NULL when absent, JSON null, or the path crosses
 * a non-object (an array included).  A "timestamp" key missing from an
 * object is also looked up as "xdm:timestamp" (SPEC §3 reads both spellings). */
static json_object *resolve(const ectx *c, const node *n, json_object *root)
{
    json_object *o = n->var >= 0 ? c->vars[n->var] : root;
    for (size_t i = n->var >= 0 ? 1 : 0; i < n->nsegs; i++) {
        json_object *next;
        if (!json_object_is_type(o, json_type_object))
            return NULL;
        if (!json_object_object_get_ex(o, n->segs[i], &next) &&
            !(strcmp(n->segs[i], "timestamp") == 0 &&
              json_object_object_get_ex(o, "xdm:timestamp", &next)))
            return NULL;
        o = next;
    }
    return o;
}

static int ev_bool(ectx *c, const node *n, json_object *root, bool *out);
static int ev_set(ectx *c, const node *n, json_object *root, int counting, int64_t *cnt);

static int ev_val(ectx *c, const node *n, json_object *root, val *out)
{
    memset(out, 0, sizeof *out);
    switch (n->k) {
    case N_LIT:
        *out = n->lit;
        return 0;
    case N_PATH:
        *out = val_of(resolve(c, n, root));
        return 0;
    case N_COUNT: {
        int64_t cnt = 0;
        if (n->a->ty == TY_SET) {
            if (ev_set(c, n->a, root, 1, &cnt))
                return -1;
        } else {
            json_object *j = resolve(c, n->a, root);
            if (!json_object_is_type(j, json_type_array))
                return 0; /* null */
            cnt = (int64_t)json_object_array_length(j);
        }
        out->k = V_INT;
        out->i = cnt;
        return 0;
    }
    default: {
        bool b;
        if (ev_bool(c, n, root, &b))
            return -1;
        out->k = V_BOOL;
        out->b = b;
        return 0;
    }
    }
}

static int is_num(const val *v) { return v->k == V_INT || v->k == V_DBL; }
static double num_d(const val *v) { return v->k == V_INT ? (double)v->i : v->d; }

/* -1 a<b, 0 equal, 1 a>b, 2 not comparable (null, or different types). */
static int vcmp(const val *a, const val *b)
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
    if (a->k != b->k)
        return 2;
    switch (a->k) {
    case V_BOOL:
        return a->b == b->b ? 0 : 3;
    case V_STR:
        return a->n == b->n && memcmp(a->s, b->s, a->n) == 0 ? 0 : 3;
    case V_ARR:
    case V_OBJ:
        return json_object_equal(a->j, b->j) ? 0 : 3;
    default:
        return 2;
    }
}

/* Lower-cases ASCII A-Z and Latin-1 U+00C0..U+00DE (but U+00D7): same length. */
static char *fold(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z') {
            o[i] = (char)(ch + 32);
        } else if (ch == 0xC3 && i + 1 < n) {
            unsigned char c2 = (unsigned char)s[i + 1];
            o[i] = (char)ch;
            o[i + 1] = (char)(c2 >= 0x80 && c2 <= 0x9E && c2 != 0x97 ? c2 + 0x20 : c2);
            i++;
        } else {
            o[i] = (char)ch;
        }
    }
    o[n] = '\0';
    return o;
}

static size_t u8len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    return (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
}

static size_t u8step(const char *s, size_t i, size_t n)
{
    size_t l = u8len((unsigned char)s[i]);
    return i + l > n ? n : i + l;
}

/* SQL LIKE: '%' any run of characters, '_' exactly one character; no escape. */
static bool like_match(const char *s, size_t sn, const char *p, size_t pn)
{
    size_t si = 0, pi = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '_') {
            si = u8step(s, si, sn);
            pi++;
        } else if (pi < pn && p[pi] == '%') {
            star = pi++;
            mark = si;
        } else if (pi < pn && p[pi] == s[si]) {
            si++;
            pi++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            mark = u8step(s, mark, sn);
            si = mark;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

static int strfn(ectx *c, int fn, bool ci, const val *a, const val *b, bool *out)
{
    const char *s = a->s, *t = b->s;
    char *fs = NULL, *ft = NULL;
    size_t sn = a->n, tn = b->n;
    bool r = false;

    *out = false;
    if (a->k != V_STR || b->k != V_STR)
        return 0;
    if (ci) {
        fs = fold(s, sn);
        ft = fold(t, tn);
        if (!fs || !ft) {
            free(fs);
            free(ft);
            c->oom = 1;
            return -1;
        }
        s = fs;
        t = ft;
    }
    switch (fn) {
    case SF_EQUALS: case SF_NOTEQUALTO:
        r = sn == tn && memcmp(s, t, sn) == 0;
        break;
    case SF_CONTAINS: case SF_DOESNOTCONTAIN:
        r = tn == 0 || (tn <= sn && memmem(s, sn, t, tn) != NULL);
        break;
    case SF_STARTSWITH: case SF_DOESNOTSTARTWITH:
        r = tn <= sn && memcmp(s, t, tn) == 0;
        break;
    default:
        r = tn <= sn && memcmp(s + sn - tn, t, tn) == 0;
        break;
    }
    if (fn == SF_NOTEQUALTO || fn == SF_DOESNOTCONTAIN || fn == SF_DOESNOTSTARTWITH ||
        fn == SF_DOESNOTENDWITH)
        r = !r;
    free(fs);
    free(ft);
    *out = r;
    return 0;
}

/* A timestamp value: RFC 3339 string, "YYYY-MM-DD" (midnight UTC), or integer epoch ms. */
static int val_time(const val *v, int64_t *ms)
{
    if (v->k == V_INT) {
        *ms = v->i;
        return 0;
    }
    if (v->k != V_STR || strlen(v->s) != v->n)
        return -1;
    if (se_time_parse(v->s, ms) == 0)
        return 0;
    if (v->n == 10 && v->s[4] == '-' && v->s[7] == '-') {
        unsigned y = 0, m = 0, d = 0;
        for (int i = 0; i < 10; i++)
            if (i != 4 && i != 7 && !is_dig(v->s[i]))
                return -1;
        y = (unsigned)atoi(v->s);
        m = (unsigned)atoi(v->s + 5);
        d = (unsigned)atoi(v->s + 8);
        if (m < 1 || m > 12 || d < 1 || d > se_days_in_month(y, m))
            return -1;
        *ms = se_days_from_civil(y, m, d) * DAY_MS;
        return 0;
    }
    return -1;
}

/* The interval [s, e) an anchor denotes.  -1 when a path anchor has no time. */
static int anchor_iv(ectx *c, const anchor *a, json_object *root, int64_t *s, int64_t *e)
{
    switch (a->k) {
    case A_NOW: *s = c->now; *e = c->now + 1; return 0;
    case A_TODAY: *s = c->today; break;
    case A_YESTERDAY: *s = c->today - DAY_MS; break;
    case A_TOMORROW: *s = c->today + DAY_MS; break;
    case A_DATE: *s = a->day_ms; break;
    case A_PATH: {
        val v = val_of(resolve(c, a->path, root));
        if (val_time(&v, s) || *s == INT64_MAX)
            return -1;
        *e = *s + 1;
        return 0;
    }
    }
    *e = *s + DAY_MS;
    return 0;
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* t shifted by n units (n may be negative); calendar units keep the time of
 * day and clamp the day to the target month's length.  -1 on overflow. */
static int shift(int64_t t, int64_t n, enum unit u, int64_t *out)
{
    static const int64_t fixed[] = {1, 1000, 60000, 3600000, 86400000, 604800000};
    static const int64_t months[] = {1, 12, 120, 1200, 12000};
    if (u <= U_WEEK) {
        int64_t d;
        if (__builtin_mul_overflow(n, fixed[u], &d) || __builtin_add_overflow(t, d, out))
            return -1;
        return 0;
    }
    int64_t days = floordiv(t, DAY_MS), tod = t - days * DAY_MS, y, total;
    unsigned m, d;
    if (days > INT64_C(100000000000) || days < -INT64_C(100000000000))
        return -1;
    se_civil_from_days(days, &y, &m, &d);
    total = y * 12 + (int64_t)(m - 1) + n * months[u - U_MONTH];
    y = floordiv(total, 12);
    m = (unsigned)(total - y * 12) + 1;
    if (d > se_days_in_month(y, m))
        d = se_days_in_month(y, m);
    days = se_days_from_civil(y, m, d);
    if (__builtin_mul_overflow(days, DAY_MS, out) || __builtin_add_overflow(*out, tod, out))
        return -1;
    return 0;
}

/* Does time t satisfy the occurs spec? */
static int occurs(ectx *c, const occspec *o, json_object *root, int64_t t, bool *out)
{
    int64_t s, e, s2, e2, b;
    *out = false;
    if (anchor_iv(c, &o->a1, root, &s, &e))
        return 0;
    switch (o->form) {
    case OC_BEFORE: *out = t < s; break;
    case OC_AFTER: *out = t >= e; break;
    case OC_ON: *out = s <= t && t < e; break;
    case OC_BETWEEN:
        if (anchor_iv(c, &o->a2, root, &s2, &e2))
            return 0;
        *out = s <= t && t < e2;
        break;
    case OC_NBEFORE:
        if (shift(s, -o->n, o->unit, &b))
            return 0;
        switch (o->cmp) {
        case TK_LT: *out = b < t && t < s; break;
        case TK_LE: *out = b <= t && t < s; break;
        case TK_GT: *out = t < b; break;
        default: *out = t <= b; break;
        }
        break;
    case OC_NAFTER:
        if (shift(s, o->n, o->unit, &b))
            return 0;
        switch (o->cmp) {
        case TK_LT: *out = s < t && t < b; break;
        case TK_LE: *out = s < t && t <= b; break;
        case TK_GT: *out = t > b; break;
        default: *out = t >= b; break;
        }
        break;
    }
    return 0;
}

static bool truthy(const val *v)
{
    switch (v->k) {
    case V_NULL: return false;
    case V_BOOL: return v->b;
    case V_ARR: return json_object_array_length(v->j) > 0;
    default: return true;
    }
}

/* Iterates the items of a select/exists clause's array. */
static size_t arr_len(ectx *c, const node *arr, json_object *root, json_object **j)
{
    if (arr->k == N_XEVENT) {
        *j = NULL;
        return c->nevents;
    }
    *j = resolve(c, arr, root);
    return json_object_is_type(*j, json_type_array) ? json_object_array_length(*j) : 0;
}

static json_object *arr_item(ectx *c, json_object *j, size_t i)
{
    return j ? json_object_array_get_idx(j, i) : c->events[i];
}

/* Clauses from k on: counting ? *cnt = number of tuples : *cnt = 1 at the first. */
static int quant(ectx *c, const node *n, size_t k, json_object *root, int counting, int64_t *cnt)
{
    json_object *j;
    size_t len;
    if (k == n->ncl) {
        (*cnt)++;
        return 0;
    }
    len = arr_len(c, n->cl[k].arr, root, &j);
    for (size_t i = 0; i < len; i++) {
        json_object *it = arr_item(c, j, i);
        bool ok = true;
        if (!j && !it)
            continue; /* NULL event slot */
        c->vars[n->cl[k].slot] = it;
        if (n->cl[k].cond && ev_bool(c, n->cl[k].cond, root, &ok))
            return -1;
        if (ok && quant(c, n, k + 1, root, counting, cnt))
            return -1;
        if (!counting && *cnt)
            return 0;
    }
    return 0;
}

/* Set nodes (select, xEvent, xEvent[..]): the item count, or (counting == 0)
 * 0/1 for empty/non-empty. */
static int ev_set(ectx *c, const node *n, json_object *root, int counting, int64_t *cnt)
{
    *cnt = 0;
    if (n->k == N_SELECT || n->k == N_EXISTS)
        return quant(c, n, 0, root, counting, cnt);
    for (size_t i = 0; i < c->nevents; i++) {
        bool ok = true;
        if (!c->events[i])
            continue;
        if (n->k == N_FILTER && ev_bool(c, n->a, c->events[i], &ok))
            return -1;
        if (ok) {
            (*cnt)++;
            if (!counting)
                return 0;
        }
    }
    return 0;
}

static int ev_bool(ectx *c, const node *n, json_object *root, bool *out)
{
    val a, b;
    *out = false;
    switch (n->k) {
    case N_AND:
    case N_OR:
        /* short-circuit: and stops at the first false, or at the first true */
        for (size_t i = 0; i < n->nitems; i++) {
            if (ev_bool(c, n->items[i], root, out))
                return -1;
            if (*out == (n->k == N_OR))
                return 0;
        }
        return 0;
    case N_NOT:
        if (ev_bool(c, n->a, root, out))
            return -1;
        *out = !*out;
        return 0;
    case N_CMP: {
        if (ev_val(c, n->a, root, &a) || ev_val(c, n->b, root, &b))
            return -1;
        int r = vcmp(&a, &b);
        switch (n->op) {
        case TK_EQ: *out = r == 0; break;
        case TK_NE: *out = r == -1 || r == 1 || r == 3; break;
        case TK_LT: *out = is_num(&a) && is_num(&b) && r == -1; break;
        case TK_LE: *out = is_num(&a) && is_num(&b) && (r == -1 || r == 0); break;
        case TK_GT: *out = is_num(&a) && is_num(&b) && r == 1; break;
        default: *out = is_num(&a) && is_num(&b) && (r == 1 || r == 0); break;
        }
        return 0;
    }
    case N_IN: {
        bool found = false;
        if (ev_val(c, n->a, root, &a))
            return -1;
        if (a.k != V_STR && a.k != V_INT && a.k != V_DBL && a.k != V_BOOL)
            return 0;
        if (n->b->k == N_LIST) {
            for (size_t i = 0; i < n->b->nitems && !found; i++)
                found = vcmp(&a, &n->b->items[i]->lit) == 0;
        } else {
            json_object *arr = resolve(c, n->b, root);
            if (!json_object_is_type(arr, json_type_array))
                return 0;
            for (size_t i = 0; i < json_object_array_length(arr) && !found; i++) {
                val it = val_of(json_object_array_get_idx(arr, i));
                found = vcmp(&a, &it) == 0;
            }
        }
        *out = n->op ? !found : found;
        return 0;
    }
    case N_LIKE:
        if (ev_val(c, n->a, root, &a) || ev_val(c, n->b, root, &b))
            return -1;
        *out = a.k == V_STR && b.k == V_STR && like_match(a.s, a.n, b.s, b.n);
        return 0;
    case N_STRFN:
        if (ev_val(c, n->a, root, &a) || ev_val(c, n->b, root, &b))
            return -1;
        return strfn(c, n->op, n->ci, &a, &b, out);
    case N_ISNULL: {
        bool isnull = resolve(c, n->a, root) == NULL;
        *out = n->op ? !isnull : isnull;
        return 0;
    }
    case N_INSEG: {
        json_object *o = c->profile, *st;
        const char *path[] = {"segmentMembership", "ups", n->owned};
        for (size_t i = 0; i < 3; i++)
            if (!json_object_is_type(o, json_type_object) ||
                !json_object_object_get_ex(o, path[i], &o))
                return 0;
        if (!json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "status", &st) ||
            !json_object_is_type(st, json_type_string))
            return 0;
        *out = strcmp(json_object_get_string(st), "realized") == 0 ||
               strcmp(json_object_get_string(st), "existing") == 0;
        return 0;
    }
    case N_OCCURS: {
        int64_t t;
        if (ev_val(c, n->a, root, &a))
            return -1;
        if (val_time(&a, &t))
            return 0;
        return occurs(c, &n->oc, root, t, out);
    }
    case N_CHAIN: {
        int64_t cnt = 0;
        for (size_t i = 0; i < c->nevents && cnt < n->count; i++) {
            json_object *ev = c->events[i];
            bool ok;
            if (!ev)
                continue;
            if (ev_bool(c, n->b, ev, &ok))
                return -1;
            if (ok && n->has_when) {
                int64_t t;
                a = val_of(resolve(c, n->a, ev));
                ok = false;
                if (val_time(&a, &t) == 0 && occurs(c, &n->oc, ev, t, &ok))
                    return -1;
            }
            if (ok)
                cnt++;
        }
        *out = cnt >= n->count;
        return 0;
    }
    case N_EXISTS:
    case N_SELECT:
    case N_XEVENT:
    case N_FILTER: {
        int64_t cnt;
        if (ev_set(c, n, root, 0, &cnt))
            return -1;
        *out = cnt > 0;
        return 0;
    }
    case N_LIT:
    case N_PATH:
        if (ev_val(c, n, root, &a))
            return -1;
        *out = truthy(&a);
        return 0;
    default:
        return 0; /* numbers, strings, lists: rejected at compile time */
    }
}

int se_pql_eval(const se_pql *q, json_object *profile, json_object *const *events,
                size_t nevents, int64_t now_ms, bool *match)
{
    ectx c;
    bool r = false;
    memset(&c, 0, sizeof c);
    c.profile = profile;
    c.events = events;
    c.nevents = events ? nevents : 0;
    c.now = now_ms;
    c.today = floordiv(now_ms, DAY_MS) * DAY_MS;
    *match = false;
    if (ev_bool(&c, q->root, profile, &r))
        return -1;
    *match = r;
    return 0;
}

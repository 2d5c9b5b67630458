/* pql_time.c -- PQL time: timestamp values, calendar arithmetic, the
 * intervals that occurs anchors denote (now, today, this/last/next periods,
 * date(...), timestamps), occurs itself, and chain(...) sequences.
 * docs/pql.md ("Time") is the contract. */
#include "pql_ast.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

int64_t pql_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int pql_date(int64_t y, int64_t m, int64_t d, int64_t *ms)
{
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > se_days_in_month(y, (unsigned)m))
        return -1;
    *ms = se_days_from_civil(y, (unsigned)m, (unsigned)d) * DAY_MS;
    return 0;
}

/* A timestamp value: RFC 3339 string, "YYYY-MM-DD" (midnight UTC), integer
 * epoch ms, or a date(...) (its first millisecond). */
int pql_val_time(ectx *c, const val *v, int64_t *ms)
{
    char buf[64];
    const char *s;
    if (v->k == V_INT || v->k == V_DATE) {
        *ms = v->i;
        return 0;
    }
    if (v->k != V_STR || memchr(v->s, '\0', v->n))
        return -1;
    if (v->n < sizeof buf) { /* the usual case: no copy into the arena */
        memcpy(buf, v->s, v->n);
        buf[v->n] = '\0';
        s = buf;
    } else if (!(s = pql_cstr(c, v))) {
        return -1;
    }
    if (se_time_parse(s, ms) == 0)
        return 0;
    if (v->n == 10 && s[4] == '-' && s[7] == '-') {
        for (int i = 0; i < 10; i++)
            if (i != 4 && i != 7 && !is_dig(s[i]))
                return -1;
        return pql_date(atoi(s), atoi(s + 5), atoi(s + 8), ms);
    }
    return -1;
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
    int64_t days = pql_floordiv(t, DAY_MS), tod = t - days * DAY_MS, y, total;
    unsigned m, d;
    if (days > INT64_C(100000000000) || days < -INT64_C(100000000000))
        return -1;
    se_civil_from_days(days, &y, &m, &d);
    total = y * 12 + (int64_t)(m - 1) + n * months[u - U_MONTH];
    y = pql_floordiv(total, 12);
    m = (unsigned)(total - y * 12) + 1;
    if (d > se_days_in_month(y, m))
        d = se_days_in_month(y, m);
    days = se_days_from_civil(y, m, d);
    if (__builtin_mul_overflow(days, DAY_MS, out) || __builtin_add_overflow(*out, tod, out))
        return -1;
    return 0;
}

/* The calendar period of unit u containing t: [s, e).  Weeks start on
 * Monday; decades, centuries and millennia at years divisible by 10, 100,
 * 1000. */
static int period(int64_t t, enum unit u, int64_t *s, int64_t *e)
{
    static const int64_t fixed[] = {1, 1000, 60000, 3600000, 86400000};
    if (u <= U_DAY) {
        *s = pql_floordiv(t, fixed[u]) * fixed[u];
    } else if (u == U_WEEK) {
        int64_t days = pql_floordiv(t, DAY_MS);
        *s = (days - ((days + 3) - pql_floordiv(days + 3, 7) * 7)) * DAY_MS;
    } else {
        int64_t y;
        unsigned m, d;
        static const int64_t years[] = {0, 1, 10, 100, 1000};
        int64_t days = pql_floordiv(t, DAY_MS);
        if (days > INT64_C(100000000000) || days < -INT64_C(100000000000))
            return -1;
        se_civil_from_days(days, &y, &m, &d);
        if (u != U_MONTH) {
            y = pql_floordiv(y, years[u - U_MONTH]) * years[u - U_MONTH];
            m = 1;
        }
        *s = se_days_from_civil(y, m, 1) * DAY_MS;
    }
    return shift(*s, 1, u, e);
}

/* The interval [s, e) an anchor denotes; *instant for now and timestamps.
 * -1 when it has none (a null or malformed timestamp). */
static int anchor_iv(ectx *c, const anchor *a, int64_t *s, int64_t *e, bool *instant)
{
    val v;
    *instant = false;
    switch (a->k) {
    case A_NOW:
        *instant = true;
        *s = c->now;
        break;
    case A_TODAY: *s = c->today; break;
    case A_YESTERDAY: *s = c->today - DAY_MS; break;
    case A_TOMORROW: *s = c->today + DAY_MS; break;
    case A_THIS: case A_LAST: case A_NEXT:
        if (period(c->now, a->unit, s, e))
            return -1;
        if (a->k == A_LAST)
            return period(*s - 1, a->unit, s, e);
        if (a->k == A_NEXT)
            return period(*e, a->unit, s, e);
        return 0;
    default:
        if (pql_ev(c, a->e, &v))
            return -1;
        if (v.k == V_DATE) {
            *s = v.i;
            break;
        }
        if (pql_val_time(c, &v, s) || *s == INT64_MAX)
            return -1;
        *instant = true;
        break;
    }
    *e = *s + (*instant ? 1 : DAY_MS);
    return 0;
}

/* Does time t satisfy the occurs spec? */
int pql_occurs(ectx *c, const occspec *o, int64_t t, bool *out)
{
    int64_t s, e, s2, e2, b, ps, pe;
    bool inst, inst2;
    *out = false;
    if (anchor_iv(c, &o->a1, &s, &e, &inst))
        return c->oom ? -1 : 0;
    switch (o->form) {
    case OC_BEFORE: *out = t < s; break;
    case OC_AFTER: *out = t >= e; break;
    case OC_ON:
        if (inst) { /* on an instant: its UTC day */
            s = pql_floordiv(s, DAY_MS) * DAY_MS;
            e = s + DAY_MS;
        }
        *out = s <= t && t < e;
        break;
    case OC_BETWEEN:
        if (anchor_iv(c, &o->a2, &s2, &e2, &inst2))
            return c->oom ? -1 : 0;
        *out = s <= t && t < e2;
        break;
    case OC_NBEFORE:
    case OC_NAFTER: {
        bool before = o->form == OC_NBEFORE;
        if (o->cmp == TK_EQ || o->cmp == TK_NE) {
            if (shift(s, before ? -o->n : o->n, o->unit, &b) || period(b, o->unit, &ps, &pe))
                return 0;
            *out = (ps <= t && t < pe) == (o->cmp == TK_EQ);
            break;
        }
        if (shift(before || inst ? s : e, before ? -o->n : o->n, o->unit, &b))
            return 0;
        switch (o->cmp) {
        case TK_LT: *out = before ? b < t && t < s : e <= t && t < b; break;
        case TK_LE: *out = before ? b <= t && t < s : e <= t && t <= b; break;
        case TK_GT: *out = before ? t < b : t > b; break;
        default: *out = before ? t <= b : t >= b; break;
        }
        break;
    }
    }
    return 0;
}

/* ---------------------------------------------------------------- chain */

/* Does event ev satisfy step s (WHAT, WHERE, WHEN on its timestamp)? */
static int step_ok(ectx *c, const node *n, const chainstep *s, const se_tape *ev, bool *ok)
{
    int rc = 0;
    c->ctx[++c->sp] = pql_val_tok(c, ev, 0);
    rc = pql_ev_bool(c, s->what, ok);
    if (!rc && *ok && s->where)
        rc = pql_ev_bool(c, s->where, ok);
    if (!rc && *ok && s->has_when) {
        val v;
        int64_t t;
        *ok = false;
        if (!(rc = pql_ev(c, n->a, &v)) && pql_val_time(c, &v, &t) == 0)
            rc = pql_occurs(c, &s->oc, t, ok);
    }
    c->sp--;
    return rc;
}

typedef struct { int64_t t; size_t i; } tev;

static int tev_cmp(const void *x, const void *y)
{
    const tev *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* One step: at least COUNT events satisfy it.  Several steps: an ordered
 * sequence -- each step's COUNT events come strictly after the previous
 * step's last one (timestamps compared; events without one take no part). */
int pql_chain(ectx *c, const node *n, bool *out)
{
    *out = false;
    if (n->nsteps == 1) {
        int64_t cnt = 0;
        for (size_t i = 0; i < c->nevents && cnt < n->steps[0].count; i++) {
            bool ok;
            if (!c->events[i])
                continue;
            if (step_ok(c, n, &n->steps[0], c->events[i], &ok))
                return -1;
            cnt += ok;
        }
        *out = cnt >= n->steps[0].count;
        return 0;
    }
    tev *v = pql_alloc(c, (c->nevents ? c->nevents : 1) * sizeof *v);
    size_t nv = 0, pos = 0;
    if (!v)
        return -1;
    for (size_t i = 0; i < c->nevents; i++) {
        val tv;
        if (!c->events[i])
            continue;
        c->ctx[++c->sp] = pql_val_tok(c, c->events[i], 0);
        int rc = pql_ev(c, n->a, &tv);
        c->sp--;
        if (rc)
            return -1;
        if (pql_val_time(c, &tv, &v[nv].t) == 0) {
            v[nv].i = i;
            nv++;
        }
    }
    qsort(v, nv, sizeof *v, tev_cmp);
    int64_t prev = INT64_MIN;
    bool started = false;
    for (size_t k = 0; k < n->nsteps; k++) {
        int64_t cnt = 0;
        while (pos < nv && cnt < n->steps[k].count) {
            bool ok = false;
            if (!started || v[pos].t > prev) {
                if (step_ok(c, n, &n->steps[k], c->events[v[pos].i], &ok))
                    return -1;
                if (ok && ++cnt == n->steps[k].count)
                    prev = v[pos].t;
            }
            pos++;
        }
        if (cnt < n->steps[k].count)
            return 0;
        started = true;
    }
    *out = true;
    return 0;
}

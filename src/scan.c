/* The fast pre-parse of a record (see scan.h).  Every "not sure" answer is
 * safe: the caller then parses the line with json-c, which decides. */
#include "scan.h"

#include <limits.h>
#include <string.h>

#include "timeutil.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Far below json-c's 512 (record.c): deeper records take the json-c path. */
enum { MAX_DEPTH = 256, MAX_NS = 32, MAX_TIME = 63 };

typedef const unsigned char *cp;

typedef struct sc {
    cp base, p, end;
    int depth;
} sc;

/* String bytes: 0 plain, 1 '"', 2 '\\', 3 control, 4 non-ASCII. */
static const unsigned char str_class[256] = {
    3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,};

static inline void ws(sc *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Length of one strictly valid UTF-8 sequence at p (non-ASCII lead), or 0.
 * Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF) is a
 * subset of what json-c's JSON_TOKENER_VALIDATE_UTF8 accepts. */
static size_t utf8_seq(cp p, cp end)
{
    unsigned c = p[0];
    size_t n = (size_t)(end - p);
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c < 0xF5) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
               (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* A string at s->p (on its '"').  Sets [*b, *e) to its raw bytes and *esc
 * when it holds an escape.  \u0000 and surrogate escapes are left to json-c. */
static bool string(sc *s, cp *b, cp *e, bool *esc)
{
    cp p = s->p + 1, end = s->end;
    *b = p;
    *esc = false;
    for (;;) {
#ifdef __SSE2__
        /* Sixteen bytes at a time: '"', '\\', and (signed) below 0x20, which
         * takes control characters and every non-ASCII byte. */
        {
            const __m128i quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\');
            const __m128i space = _mm_set1_epi8(0x20);
            while (end - p >= 16) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
                __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bsl)),
                                         _mm_cmplt_epi8(x, space));
                unsigned bits = (unsigned)_mm_movemask_epi8(m);
                if (bits) {
                    p += __builtin_ctz(bits);
                    break;
                }
                p += 16;
            }
        }
#endif
        /* Eight plain bytes at a time while they last. */
        while (end - p >= 8 && str_class[*p] == 0) {
            uint64_t x;
            memcpy(&x, p, 8);
            const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
            uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
            uint64_t t = ((q - ones) & ~q) | ((bs - ones) & ~bs) | (x - ones * 0x20) | x;
            if (t & high)
                break;
            p += 8;
        }
        if (p >= end)
            return false;
        switch (str_class[*p]) {
        case 0:
            p++;
            break;
        case 1:
            *e = p;
            s->p = p + 1;
            return true;
        case 2: {
            *esc = true;
            if (end - p < 2)
                return false;
            unsigned c = p[1];
            if (c == 'u') {
                if (end - p < 6)
                    return false;
                int v = 0;
                for (int i = 2; i < 6; i++) {
                    int h = hexval(p[i]);
                    if (h < 0)
                        return false;
                    v = v * 16 + h;
                }
                if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
                    return false;
                p += 6;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                p += 2;
            } else {
                return false;
            }
            break;
        }
        case 3:
            return false;
        default: {
            size_t n = utf8_seq(p, end);
            if (n == 0)
                return false;
            p += n;
            break;
        }
        }
    }
}

/* A number; *is_int when it has neither fraction nor exponent.  Only numbers
 * json-c reads without overflow: at most 18 integer digits, a 2-digit exponent. */
static bool number(sc *s, bool *is_int, int64_t *val)
{
    cp p = s->p, end = s->end;
    bool neg = false;
    int64_t v = 0;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return false;
    if (*p == '0') {
        p++;
    } else {
        int n = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (++n > 18)
                return false;
            v = v * 10 + (*p++ - '0');
        }
    }
    *is_int = true;
    if (p < end && *p == '.') {
        *is_int = false;
        p++;
        cp d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d || p - d > 40)
            return false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        cp d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d || p - d > 2)
            return false;
    }
    *val = neg ? -v : v;
    s->p = p;
    return true;
}

static bool value(sc *s);

static bool lit(sc *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* An object's members, from its '{' to after its '}'.  For each member the
 * name (no escapes: else not sure) is handed to fn, which scans the value. */
typedef bool (*member_fn)(sc *s, cp name, size_t nlen, void *ud);

static bool object(sc *s, member_fn fn, void *ud)
{
    if (++s->depth > MAX_DEPTH)
        return false;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        cp b, e;
        bool esc;
        if (s->p >= s->end || *s->p != '"' || !string(s, &b, &e, &esc))
            return false;
        ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        ws(s);
        if (fn) {
            if (esc || !fn(s, b, (size_t)(e - b), ud))
                return false;
        } else if (!value(s)) {
            return false;
        }
        ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == ',') {
            s->p++;
            ws(s);
            continue;
        }
        if (*s->p != '}')
            return false;
        s->p++;
        s->depth--;
        return true;
    }
}

typedef bool (*elem_fn)(sc *s, void *ud);

static bool array(sc *s, elem_fn fn, void *ud)
{
    if (++s->depth > MAX_DEPTH)
        return false;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        if (!(fn ? fn(s, ud) : value(s)))
            return false;
        ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == ',') {
            s->p++;
            ws(s);
            continue;
        }
        if (*s->p != ']')
            return false;
        s->p++;
        s->depth--;
        return true;
    }
}

static bool value(sc *s)
{
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{':
        return object(s, NULL, NULL);
    case '[':
        return array(s, NULL, NULL);
    case '"': {
        cp b, e;
        bool esc;
        return string(s, &b, &e, &esc);
    }
    case 't':
        return lit(s, "true", 4);
    case 'f':
        return lit(s, "false", 5);
    case 'n':
        return lit(s, "null", 4);
    default: {
        bool is_int;
        int64_t v;
        return number(s, &is_int, &v);
    }
    }
}

static bool name_is(cp name, size_t n, const char *lit_)
{
    return n == strlen(lit_) && memcmp(name, lit_, n) == 0;
}

/* A time as se_record_parse's get_ms reads it: an integer or an RFC 3339
 * string.  Anything else (a bad record, or merely unusual) is not sure. */
static bool time_value(sc *s)
{
    if (s->p >= s->end)
        return false;
    if (*s->p == '"') {
        cp b, e;
        bool esc;
        char buf[MAX_TIME + 1];
        int64_t ms;
        if (!string(s, &b, &e, &esc) || esc || e - b > MAX_TIME)
            return false;
        memcpy(buf, b, (size_t)(e - b));
        buf[e - b] = '\0';
        return se_time_parse(buf, &ms) == 0;
    }
    bool is_int;
    int64_t v;
    return number(s, &is_int, &v) && is_int;
}

/* ---- identityMap ------------------------------------------------------ */

typedef struct idstate {
    cp ns[MAX_NS];
    size_t nslen[MAX_NS], nns;
    cp cur_ns;
    size_t cur_nslen;
    /* the item being read */
    bool seen_id, seen_primary, is_primary;
    cp id;
    size_t idlen;
    /* the best so far */
    bool found, primary;
    cp bns, bid;
    size_t bnslen, bidlen;
} idstate;

static int cmp_bytes(cp a, size_t an, cp b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

static bool item_member(sc *s, cp name, size_t n, void *ud)
{
    idstate *st = ud;
    if (n >= 4 && memcmp(name, "xdm:", 4) == 0)
        return false;
    if (name_is(name, n, "id")) {
        if (st->seen_id)
            return false;
        st->seen_id = true;
        if (s->p < s->end && *s->p == '"') {
            cp b, e;
            bool esc;
            if (!string(s, &b, &e, &esc) || esc)
                return false;
            st->id = b;
            st->idlen = (size_t)(e - b);
            return true;
        }
        return value(s);
    }
    if (name_is(name, n, "primary")) {
        if (st->seen_primary)
            return false;
        st->seen_primary = true;
        if (s->p < s->end && *s->p == 't')
            return (st->is_primary = lit(s, "true", 4));
        return value(s);
    }
    return value(s);
}

static bool item(sc *s, void *ud)
{
    idstate *st = ud;
    if (s->p >= s->end || *s->p != '{')
        return value(s);
    st->seen_id = st->seen_primary = st->is_primary = false;
    st->id = NULL;
    st->idlen = 0;
    if (!object(s, item_member, st))
        return false;
    /* se_identity_key's choice, in document order. */
    if (st->primary || st->id == NULL || st->idlen == 0)
        return true;
    if (st->is_primary || !st->found ||
        cmp_bytes(st->cur_ns, st->cur_nslen, st->bns, st->bnslen) < 0 ||
        (cmp_bytes(st->cur_ns, st->cur_nslen, st->bns, st->bnslen) == 0 &&
         cmp_bytes(st->id, st->idlen, st->bid, st->bidlen) < 0)) {
        st->found = true;
        st->bns = st->cur_ns;
        st->bnslen = st->cur_nslen;
        st->bid = st->id;
        st->bidlen = st->idlen;
    }
    if (st->is_primary)
        st->primary = true;
    return true;
}

static bool ns_member(sc *s, cp name, size_t n, void *ud)
{
    idstate *st = ud;
    for (size_t i = 0; i < st->nns; i++)
        if (st->nslen[i] == n && memcmp(st->ns[i], name, n) == 0)
            return false; /* duplicate namespace: json-c's replacement rules decide */
    if (st->nns == MAX_NS)
        return false;
    st->ns[st->nns] = name;
    st->nslen[st->nns++] = n;
    if (s->p >= s->end || *s->p != '[')
        return value(s);
    st->cur_ns = name;
    st->cur_nslen = n;
    return array(s, item, st);
}

/* ---- _acp_system_metadata --------------------------------------------- */

static bool meta_member(sc *s, cp name, size_t n, void *ud)
{
    bool *seen = ud;
    if (name_is(name, n, "ingestTime")) {
        if (*seen)
            return false;
        *seen = true;
        return time_value(s);
    }
    return value(s);
}

/* ---- the record ------------------------------------------------------- */

typedef struct topstate {
    se_scan *out;
    idstate id;
    bool seen_idmap, seen_meta, seen_ts;
} topstate;

static bool top_member(sc *s, cp name, size_t n, void *ud)
{
    topstate *t = ud;
    se_scan *o = t->out;
    cp start = name - 1; /* the opening quote */
    bool ok;

    if (n >= 4 && memcmp(name, "xdm:", 4) == 0 &&
        (name_is(name, n, "xdm:identityMap") || name_is(name, n, "xdm:segmentMembership") ||
         name_is(name, n, "xdm:timestamp")))
        return false;
    if (name_is(name, n, "identityMap")) {
        if (t->seen_idmap || s->p >= s->end || *s->p != '{')
            return false;
        t->seen_idmap = true;
        ok = object(s, ns_member, &t->id);
    } else if (name_is(name, n, "_acp_system_metadata")) {
        bool seen_ingest = false;
        if (t->seen_meta)
            return false;
        t->seen_meta = true;
        ok = s->p < s->end && *s->p == '{' ? object(s, meta_member, &seen_ingest) : value(s);
    } else if (name_is(name, n, "timestamp")) {
        if (t->seen_ts)
            return false;
        t->seen_ts = true;
        o->event = true;
        ok = time_value(s);
    } else {
        ok = value(s);
    }
    if (!ok)
        return false;
    if (o->nmembers < SE_SCAN_MAX_MEMBERS) {
        se_scan_member *m = &o->members[o->nmembers++];
        m->off = (uint32_t)(start - s->base);
        m->len = (uint32_t)(s->p - start);
        m->name_off = (uint32_t)(name - s->base);
        m->name_len = (uint32_t)n;
    } else {
        o->members_ok = false;
    }
    return true;
}

int se_scan_record(const char *data, size_t len, se_scan *out)
{
    sc s;
    topstate t;

    if (len > INT_MAX || len > UINT32_MAX)
        return 0;
    memset(&t, 0, sizeof t);
    out->event = false;
    out->nmembers = 0;
    out->members_ok = true;
    t.out = out;
    s.base = s.p = (cp)data;
    s.end = s.p + len;
    s.depth = 0;
    ws(&s);
    if (s.p >= s.end || *s.p != '{' || !object(&s, top_member, &t))
        return 0;
    ws(&s);
    if (s.p != s.end || !t.id.found)
        return 0;
    out->ns_off = (uint32_t)(t.id.bns - s.base);
    out->ns_len = (uint32_t)t.id.bnslen;
    out->id_off = (uint32_t)(t.id.bid - s.base);
    out->id_len = (uint32_t)t.id.bidlen;
    return 1;
}

/* The names of the identityMap namespaces whose value is a non-empty array,
 * '\n'-separated, in document order (what se_jobstate_count_row counts of the
 * merged map of this one fragment).  false when not sure: no identityMap
 * member, escapes or whitespace in it, a duplicate namespace. */
bool se_scan_id_namespaces(const char *data, const se_scan *scn, char *out, size_t *outlen, bool *all)
{
    *all = true;
    const se_scan_member *m = NULL;
    for (size_t i = 0; i < scn->nmembers && !m; i++)
        if (scn->members[i].name_len == 11 && !memcmp(data + scn->members[i].name_off, "identityMap", 11))
            m = &scn->members[i];
    if (!m)
        return false;
    const char *p = data + m->name_off + 11, *end = data + m->off + m->len;
    if (end - p < 3 || p[0] != '"' || p[1] != ':' || p[2] != '{' || memchr(p, '\\', (size_t)(end - p)))
        return false;
    const char *nsv[64];
    size_t lens[64], nn = 0;
    char *o = out;
    p += 3;
    if (p < end && *p == '}') {
        *outlen = 0;
        return p + 1 == end;
    }
    for (;;) {
        if (p >= end || *p != '"' || nn == 64)
            return false;
        const char *s = p + 1, *e = memchr(s, '"', (size_t)(end - s));
        if (!e || e + 1 >= end || e[1] != ':')
            return false;
        for (size_t i = 0; i < nn; i++)
            if (lens[i] == (size_t)(e - s) && !memcmp(nsv[i], s, lens[i]))
                return false;
        nsv[nn] = s;
        lens[nn++] = (size_t)(e - s);
        p = e + 2;
        if (!(p + 1 < end && p[0] == '[' && p[1] != ']'))
            *all = false;
        if (p + 1 < end && p[0] == '[' && p[1] != ']') {
            if (o > out)
                *o++ = '\n';
            memcpy(o, s, (size_t)(e - s));
            o += e - s;
        }
        /* Past the value (no escapes in here, so quotes pair up). */
        size_t d = 0;
        for (;;) {
            if (p >= end)
                return false;
            char ch = *p;
            if (ch == '"') {
                const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
                if (!q)
                    return false;
                p = q + 1;
                continue;
            }
            if (ch == '{' || ch == '[') {
                d++;
            } else if (ch == '}' || ch == ']') {
                if (d == 0)
                    break;
                d--;
            } else if (ch == ',' && d == 0) {
                break;
            } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
                return false;
            }
            p++;
        }
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}' && p + 1 == end)
            break;
        return false;
    }
    *outlen = (size_t)(o - out);
    return true;
}

/* Whether n[0..nl) occurs in h[0..hl) (memmem; glibc's is slow for the
 * 36-byte ids here).  Candidates are positions where both the first and the
 * last byte match, sixteen at a time. */
bool se_find_bytes(const char *h, size_t hl, const char *n, size_t nl)
{
    size_t i = 0;

    if (nl == 0)
        return true;
    if (hl < nl)
        return false;
#ifdef __SSE2__
    if (nl >= 2) {
        const __m128i first = _mm_set1_epi8(n[0]), last = _mm_set1_epi8(n[nl - 1]);
        for (; i + nl - 1 + 16 <= hl; i += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(h + i + nl - 1));
            unsigned bits = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first),
                                                                      _mm_cmpeq_epi8(b, last)));
            while (bits) {
                unsigned k = (unsigned)__builtin_ctz(bits);
                if (memcmp(h + i + k + 1, n + 1, nl - 2) == 0)
                    return true;
                bits &= bits - 1;
            }
        }
    }
#endif
    for (; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
            return true;
    return false;
}


/* --shard's quick key: see shardkey.h. */
#include <string.h>
#include "record.h"
#include "shardkey.h"

typedef struct cur { const char *p, *e; } cur;

static void ws(cur *c)
{
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static bool lit(cur *c, char ch)
{
    ws(c);
    if (c->p < c->e && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A string without backslash: its bytes. */
static bool str(cur *c, const char **s, size_t *n)
{
    ws(c);
    if (c->p >= c->e || *c->p != '"')
        return false;
    /* (A raw control character would make the record bad: its owner, this
     * key's shard, reports it.) */
    const char *b = ++c->p, *q = memchr(b, '"', (size_t)(c->e - b));
    if (!q || memchr(b, '\\', (size_t)(q - b)))
        return false;
    c->p = q + 1;
    *s = b;
    *n = (size_t)(q - b);
    return true;
}

/* A scalar other than a string: number, true, false, null (not checked
 * further: a bad one makes the record bad, which the owning shard reports).
 * *truth: it is `true`. */
static bool scalar(cur *c, bool *truth)
{
    ws(c);
    const char *b = c->p;
    while (c->p < c->e && *c->p != ',' && *c->p != '}' && *c->p != ']' && *c->p != ' ' &&
           *c->p != '\t' && *c->p != '\r' && *c->p != '\n' && *c->p != '"' && *c->p != '{' &&
           *c->p != '[')
        c->p++;
    *truth = c->p - b == 4 && !memcmp(b, "true", 4);
    return c->p > b;
}

static bool eq(const char *s, size_t n, const char *lit_)
{
    return n == strlen(lit_) && !memcmp(s, lit_, n);
}

static int cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : (an > bn) - (an < bn);
}

bool se_shardkey_hash(const char *data, size_t len, uint64_t *h)
{
    cur c = { data, data + len };
    const char *s, *bns = NULL, *bid = NULL;
    size_t n, bnsn = 0, bidn = 0;
    const char *nss[16];
    size_t nsn[16], nns = 0;
    bool primary = false;

    if (!lit(&c, '{') || !str(&c, &s, &n) || !eq(s, n, "identityMap") || !lit(&c, ':') ||
        !lit(&c, '{'))
        return false;
    if (!lit(&c, '}')) {
        do {
            const char *ns;
            size_t nl;
            if (!str(&c, &ns, &nl) || !lit(&c, ':') || !lit(&c, '[') || nns == 16)
                return false;
            for (size_t i = 0; i < nns; i++)
                if (nsn[i] == nl && !memcmp(nss[i], ns, nl))
                    return false; /* a repeated namespace: the full parse decides */
            nss[nns] = ns;
            nsn[nns++] = nl;
            if (lit(&c, ']'))
                continue;
            do {
                const char *id = NULL;
                size_t idn = 0;
                int nid = 0, nprim = 0;
                bool is_primary = false;
                if (!lit(&c, '{'))
                    return false;
                if (!lit(&c, '}')) {
                    do {
                        const char *k;
                        size_t kn;
                        if (!str(&c, &k, &kn) || !lit(&c, ':'))
                            return false;
                        bool isid = eq(k, kn, "id") || eq(k, kn, "xdm:id");
                        bool isprim = eq(k, kn, "primary") || eq(k, kn, "xdm:primary");
                        ws(&c);
                        if (c.p < c.e && *c.p == '"') {
                            const char *v;
                            size_t vn;
                            if (!str(&c, &v, &vn) || isprim)
                                return false;
                            if (isid) {
                                id = v;
                                idn = vn;
                                nid++;
                            }
                        } else {
                            bool t;
                            if (isid || !scalar(&c, &t))
                                return false;
                            if (isprim) {
                                is_primary = t;
                                nprim++;
                            }
                        }
                        if (nid > 1 || nprim > 1)
                            return false; /* both spellings, or twice */
                    } while (lit(&c, ','));
                    if (!lit(&c, '}'))
                        return false;
                }
                if (!primary && id && idn > 0 &&
                    (is_primary || !bid || cmp(nss[nns - 1], nsn[nns - 1], bns, bnsn) < 0 ||
                     (cmp(nss[nns - 1], nsn[nns - 1], bns, bnsn) == 0 && cmp(id, idn, bid, bidn) < 0))) {
                    bns = nss[nns - 1];
                    bnsn = nsn[nns - 1];
                    bid = id;
                    bidn = idn;
                    primary = is_primary;
                }
            } while (lit(&c, ','));
            if (!lit(&c, ']'))
                return false;
        } while (lit(&c, ','));
        if (!lit(&c, '}'))
            return false;
    }
    if (!bid)
        return false;
    /* Nothing after it may change the key: no second identityMap (either
     * spelling, at any depth: conservative) and no \u escape (which could
     * spell one). */
    n = (size_t)(c.e - c.p);
    if (memmem(c.p, n, "identityMap\"", 12))
        return false;
    for (const char *b = c.p; (b = memchr(b, '\\', (size_t)(c.e - b))); b += 2)
        if (b + 1 < c.e && b[1] == 'u')
            return false;
    /* se_fnv1a64 of the key text NS ":" ID (no escapes to add: see str). */
    uint64_t x = se_fnv1a64_more(SE_FNV1A64_INIT, bns, bnsn);
    *h = se_fnv1a64_more(se_fnv1a64_more(x, ":", 1), bid, bidn);
    return true;
}

/* The identity graph (SPEC §4, identityGraph "pdg"): a union-find over
 * 64-bit identity hashes.  See idgraph.h for what it costs. */
#include <stdlib.h>
#include <string.h>
#include "idgraph.h"
#include "record.h"

#define ROOT 0x80000000u      /* p[i]: a root; the low bits are its component */
#define NOCOMP 0x7fffffffu    /* a root that has no component record yet */
#define MAXNODES 0x7ffffffeu
#define REPORTED 255u
#define STALE UINT32_MAX      /* the owner of a key no component uses any more */
#define GROW(n) ((n) + (n) / 4)  /* arrays grow by a quarter: little slack (realloc moves pages) */

struct se_idgraph {
    uint64_t *h;               /* identity hashes, by node */
    uint32_t *p;               /* parent node, or ROOT | component */
    size_t n, cap;
    uint32_t *slots;           /* hash index: node + 1, 0 empty */
    size_t tcap;
    uint64_t *koff;            /* by component: its key in the arena; next free when free */
    uint8_t *csize;            /* distinct identities, saturated at 254; 0: free;
                                  REPORTED: past the limit and reported */
    size_t ncomps, ccap, live;
    uint64_t freelist;         /* free component records, UINT64_MAX: none */
    char *arena;               /* keys: 4-byte owner component (STALE: none), varint ns
                                  length, varint id length, ns, id */
    size_t alen, acap, astale;
    size_t peak;
};

/* ---- identities ------------------------------------------------------- */

uint64_t se_ident_hash(const char *ns, size_t nslen, const char *id, size_t idlen)
{
    uint64_t h = se_fnv1a64_more(SE_FNV1A64_INIT, ns, nslen);
    return se_fnv1a64_more(se_fnv1a64_more(h, "", 1), id, idlen); /* a 0 byte between */
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

int se_ident_cmp(const se_ident *a, const se_ident *b)
{
    int c = cmp_bytes(a->ns, a->nslen, b->ns, b->nslen);
    return c ? c : cmp_bytes(a->id, a->idlen, b->id, b->idlen);
}

/* Calls fn for every identity item SPEC §3 reads, in document order; stops
 * when fn returns non-zero and returns that. */
static int each_ident(json_object *map, int (*fn)(void *, const se_ident *, bool), void *ud)
{
    if (!json_object_is_type(map, json_type_object))
        return 0;
    json_object_object_foreach(map, ns, items) {
        if (!json_object_is_type(items, json_type_array))
            continue;
        size_t nslen = strlen(ns), n = json_object_array_length(items);
        for (size_t i = 0; i < n; i++) {
            json_object *item = json_object_array_get_idx(items, i), *idv, *pv;
            if (!json_object_is_type(item, json_type_object))
                continue;
            idv = se_json_get_either(item, "id", "xdm:id");
            if (!json_object_is_type(idv, json_type_string))
                continue;
            se_ident k = { ns, json_object_get_string(idv), nslen, (size_t)json_object_get_string_len(idv) };
            if (k.idlen == 0 || memchr(k.id, '\0', k.idlen))
                continue;
            pv = se_json_get_either(item, "primary", "xdm:primary");
            int r = fn(ud, &k, json_object_is_type(pv, json_type_boolean) && json_object_get_boolean(pv));
            if (r)
                return r;
        }
    }
    return 0;
}

struct collect { se_ident **v; size_t *cap, n, key; bool primary; };

static int collect_one(void *ud, const se_ident *k, bool primary)
{
    struct collect *c = ud;
    if (c->n == *c->cap) {
        size_t nc = *c->cap ? 2 * *c->cap : 8;
        se_ident *nv = realloc(*c->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *c->v = nv;
        *c->cap = nc;
    }
    (*c->v)[c->n] = *k;
    if (!c->primary && (primary || c->n == 0 || se_ident_cmp(k, &(*c->v)[c->key]) < 0)) {
        c->key = c->n;
        c->primary = primary;
    }
    c->n++;
    return 0;
}

long se_ident_collect(json_object *identity_map, se_ident **v, size_t *cap, size_t *key)
{
    struct collect c = { v, cap, 0, 0, false };
    if (each_ident(identity_map, collect_one, &c) != 0)
        return -1;
    *key = c.key;
    return (long)c.n;
}

long se_ident_key_text(const se_ident *k, char **buf, size_t *cap)
{
    size_t need = 2 * (k->nslen + k->idlen) + 2;
    if (need > *cap) {
        char *nb = realloc(*buf, need);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = need;
    }
    char *o = *buf;
    for (int part = 0; part < 2; part++) {
        const char *s = part ? k->id : k->ns;
        size_t n = part ? k->idlen : k->nslen;
        if (part)
            *o++ = ':';
        for (size_t i = 0; i < n; i++) {
            switch (s[i]) {
            case '\t': *o++ = '\\'; *o++ = 't'; break;
            case '\n': *o++ = '\\'; *o++ = 'n'; break;
            case '\r': *o++ = '\\'; *o++ = 'r'; break;
            case '\\': *o++ = '\\'; *o++ = '\\'; break;
            default: *o++ = s[i]; break;
            }
        }
    }
    *o = '\0';
    return (long)(o - *buf);
}

/* ---- the graph -------------------------------------------------------- */

se_idgraph *se_idgraph_new(void)
{
    se_idgraph *g = calloc(1, sizeof *g);
    if (g)
        g->freelist = UINT64_MAX;
    return g;
}

void se_idgraph_free(se_idgraph *g)
{
    if (!g)
        return;
    free(g->h);
    free(g->p);
    free(g->slots);
    free(g->koff);
    free(g->csize);
    free(g->arena);
    free(g);
}

size_t se_idgraph_bytes(const se_idgraph *g)
{
    return g->cap * (sizeof *g->h + sizeof *g->p) + g->tcap * sizeof *g->slots +
           g->ccap * (sizeof *g->koff + sizeof *g->csize) + g->acap;
}

static void note_peak(se_idgraph *g, size_t extra)
{
    size_t b = se_idgraph_bytes(g) + extra;
    if (b > g->peak)
        g->peak = b;
}

size_t se_idgraph_peak_bytes(const se_idgraph *g) { return g->peak; }
size_t se_idgraph_identities(const se_idgraph *g) { return g->n; }
size_t se_idgraph_components(const se_idgraph *g) { return g->live; }

static size_t slot_of(const se_idgraph *g, uint64_t h)
{
    /* FNV-1a's low bits are weak: mix, then map onto tcap (any size). */
    uint64_t x = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return (size_t)(((unsigned __int128)x * g->tcap) >> 64);
}

/* The node of h, or UINT32_MAX. */
static uint32_t lookup(const se_idgraph *g, uint64_t h)
{
    if (!g->tcap)
        return UINT32_MAX;
    for (size_t s = slot_of(g, h);; s = s + 1 == g->tcap ? 0 : s + 1) {
        uint32_t v = g->slots[s];
        if (!v)
            return UINT32_MAX;
        if (g->h[v - 1] == h)
            return v - 1;
    }
}

static void place(se_idgraph *g, uint32_t node)
{
    size_t s = slot_of(g, g->h[node]);
    while (g->slots[s])
        s = s + 1 == g->tcap ? 0 : s + 1;
    g->slots[s] = node + 1;
}

/* The node of h, created (a root with no component) when new. */
static int node_of(se_idgraph *g, uint64_t h, uint32_t *out)
{
    uint32_t v = lookup(g, h);
    if (v != UINT32_MAX) {
        *out = v;
        return 0;
    }
    if (g->n >= MAXNODES)
        return -1;
    if (g->n == g->cap) {
        size_t nc = g->cap ? GROW(g->cap) : 4096;
        uint64_t *nh = realloc(g->h, nc * sizeof *nh);
        if (!nh)
            return -1;
        g->h = nh;
        uint32_t *np = realloc(g->p, nc * sizeof *np);
        if (!np)
            return -1;
        g->p = np;
        g->cap = nc;
    }
    if ((g->n + 1) * 5 > g->tcap * 4) {
        /* At most 4/5 full; rebuilt from the nodes, so the old index goes
         * first (no moment holding both). */
        size_t nt = g->tcap ? GROW(g->tcap) : 8192;
        free(g->slots);
        g->tcap = 0;
        if (!(g->slots = calloc(nt, sizeof *g->slots)))
            return -1;
        g->tcap = nt;
        for (uint32_t i = 0; i < g->n; i++) {
            if (i + 8 < g->n) /* (the slots are a cache miss each) */
                __builtin_prefetch(&g->slots[slot_of(g, g->h[i + 8])], 1);
            place(g, i);
        }
    }
    g->h[g->n] = h;
    g->p[g->n] = ROOT | NOCOMP;
    place(g, (uint32_t)g->n);
    *out = (uint32_t)g->n++;
    note_peak(g, 0);
    return 0;
}

static uint32_t find(se_idgraph *g, uint32_t x)
{
    uint32_t *p = g->p;
    for (;;) {
        uint32_t q = p[x];
        if (q & ROOT)
            return x;
        uint32_t r = p[q];
        if (r & ROOT)
            return q;
        p[x] = r; /* path halving */
        x = r;
    }
}

static size_t put_varint(char *o, size_t v)
{
    size_t n = 0;
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        o[n++] = (char)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static size_t get_varint(const char *s, size_t *v)
{
    size_t n = 0, x = 0;
    unsigned shift = 0;
    for (;;) {
        unsigned char b = (unsigned char)s[n++];
        x |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *v = x;
    return n;
}

/* Component c's key, and its size in the arena. */
static se_ident comp_key(const se_idgraph *g, uint32_t c, size_t *bytes)
{
    const char *s = g->arena + g->koff[c] + 4, *b = s - 4;
    se_ident k;
    s += get_varint(s, &k.nslen);
    s += get_varint(s, &k.idlen);
    k.ns = s;
    k.id = s + k.nslen;
    if (bytes)
        *bytes = (size_t)(s - b) + k.nslen + k.idlen;
    return k;
}

/* The size of the arena entry at off. */
static size_t entry_size(const se_idgraph *g, size_t off)
{
    size_t a, b, n = 4;
    n += get_varint(g->arena + off + n, &a);
    n += get_varint(g->arena + off + n, &b);
    return n + a + b;
}

static void set_owner(se_idgraph *g, size_t off, uint32_t c)
{
    memcpy(g->arena + off, &c, sizeof c);
}

/* Slides the live keys over the stale ones, in place (no second arena),
 * once stale bytes are an eighth of the arena. */
static void compact(se_idgraph *g)
{
    if (g->astale < 65536 || g->astale * 8 < g->alen)
        return;
    size_t r = 0, w = 0;
    while (r < g->alen) {
        size_t n = entry_size(g, r);
        uint32_t owner;
        memcpy(&owner, g->arena + r, sizeof owner);
        if (owner != STALE) {
            if (w != r)
                memmove(g->arena + w, g->arena + r, n);
            g->koff[owner] = w;
            w += n;
        }
        r += n;
    }
    g->alen = w;
    g->astale = 0;
}

static void stale(se_idgraph *g, uint32_t c)
{
    if (g->koff[c] != UINT64_MAX) {
        g->astale += entry_size(g, g->koff[c]);
        set_owner(g, g->koff[c], STALE);
    }
}

/* Sets component c's key to a copy of k. */
static int set_key(se_idgraph *g, uint32_t c, const se_ident *k)
{
    size_t need = k->nslen + k->idlen + 24;
    if (g->alen + need > g->acap) {
        size_t nc = g->acap ? GROW(g->acap) : 65536;
        while (nc < g->alen + need)
            nc = GROW(nc);
        char *na = realloc(g->arena, nc);
        if (!na)
            return -1;
        g->arena = na;
        g->acap = nc;
        note_peak(g, 0);
    }
    stale(g, c);
    char *o = g->arena + g->alen;
    g->koff[c] = g->alen;
    memcpy(o, &c, sizeof c);
    o += 4;
    o += put_varint(o, k->nslen);
    o += put_varint(o, k->idlen);
    memcpy(o, k->ns, k->nslen);
    memcpy(o + k->nslen, k->id, k->idlen);
    g->alen = (size_t)(o + k->nslen + k->idlen - g->arena);
    return 0;
}

static int new_comp(se_idgraph *g, uint32_t *out)
{
    uint32_t c;
    if (g->freelist != UINT64_MAX) {
        c = (uint32_t)g->freelist;
        g->freelist = g->koff[c];
    } else {
        if (g->ncomps >= NOCOMP)
            return -1;
        if (g->ncomps == g->ccap) {
            size_t nc = g->ccap ? GROW(g->ccap) : 4096;
            uint64_t *nk = realloc(g->koff, nc * sizeof *nk);
            if (!nk)
                return -1;
            g->koff = nk;
            uint8_t *ns = realloc(g->csize, nc);
            if (!ns)
                return -1;
            g->csize = ns;
            g->ccap = nc;
            note_peak(g, 0);
        }
        c = (uint32_t)g->ncomps++;
    }
    g->koff[c] = UINT64_MAX; /* no key yet */
    g->csize[c] = 1;
    g->live++;
    *out = c;
    return 0;
}

static void free_comp(se_idgraph *g, uint32_t c)
{
    stale(g, c);
    g->csize[c] = 0;
    g->koff[c] = g->freelist;
    g->freelist = c;
    g->live--;
}

/* Unites roots a (which has a component) and b; returns the new root. */
static uint32_t unite(se_idgraph *g, uint32_t a, uint32_t b)
{
    uint32_t ca = g->p[a] & ~ROOT, cb = g->p[b] & ~ROOT;
    unsigned size = (g->csize[ca] == REPORTED ? 254u : g->csize[ca]) +
                    (cb == NOCOMP ? 1u : g->csize[cb] == REPORTED ? 254u : g->csize[cb]);
    if (cb != NOCOMP) {
        se_ident ka = comp_key(g, ca, NULL), kb = comp_key(g, cb, NULL);
        if (se_ident_cmp(&kb, &ka) < 0) {
            /* b's key is smaller: a's record takes it over (no copy). */
            uint64_t t = g->koff[ca];
            g->koff[ca] = g->koff[cb];
            g->koff[cb] = t;
            set_owner(g, g->koff[ca], ca);
            set_owner(g, g->koff[cb], cb);
        }
        free_comp(g, cb);
    }
    g->csize[ca] = (uint8_t)(size > 254 ? 254 : size);
    /* The older node is the root: deterministic, and paths stay short with halving. */
    uint32_t root = a < b ? a : b, child = a < b ? b : a;
    g->p[root] = ROOT | ca;
    g->p[child] = root;
    return root;
}

int se_idgraph_add(se_idgraph *g, const se_ident *ids, size_t n, size_t key)
{
    if (n == 0 || key >= n)
        return 0;
    uint64_t small[16], *hs = n <= 16 ? small : malloc(n * sizeof *hs);
    if (!hs)
        return -1;
    for (size_t i = 0; i < n; i++)
        hs[i] = se_ident_hash(ids[i].ns, ids[i].nslen, ids[i].id, ids[i].idlen);
    int r = se_idgraph_add_hashed(g, ids, hs, n, key);
    if (hs != small)
        free(hs);
    return r;
}

int se_idgraph_add_hashed(se_idgraph *g, const se_ident *ids, const uint64_t *hs, size_t n, size_t key)
{
    uint32_t k, rk, x, c;
    if (n == 0 || key >= n)
        return 0;
    if (node_of(g, hs[key], &k) != 0)
        return -1;
    rk = find(g, k);
    c = g->p[rk] & ~ROOT;
    if (c == NOCOMP) {
        if (new_comp(g, &c) != 0 || set_key(g, c, &ids[key]) != 0)
            return -1;
        g->p[rk] = ROOT | c;
    } else {
        se_ident cur = comp_key(g, c, NULL);
        if (se_ident_cmp(&ids[key], &cur) < 0 && set_key(g, c, &ids[key]) != 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (i == key)
            continue;
        if (node_of(g, hs[i], &x) != 0)
            return -1;
        x = find(g, x);
        if (x != rk)
            rk = unite(g, rk, x);
    }
    compact(g);
    return 0;
}

void se_idgraph_prefetch(const se_idgraph *g, uint64_t h)
{
    if (g->tcap)
        __builtin_prefetch(&g->slots[slot_of(g, h)]);
}

bool se_idgraph_find(se_idgraph *g, uint64_t h, se_ident *key, unsigned *size)
{
    uint32_t x = lookup(g, h);
    if (x == UINT32_MAX)
        return false;
    uint32_t c = g->p[find(g, x)] & ~ROOT;
    if (c == NOCOMP || g->koff[c] == UINT64_MAX)
        return false; /* only after a failed se_idgraph_add */
    *key = comp_key(g, c, NULL);
    if (size)
        *size = g->csize[c] == REPORTED ? 254u : g->csize[c];
    return true;
}

bool se_idgraph_report_once(se_idgraph *g, uint64_t h)
{
    uint32_t x = lookup(g, h);
    if (x == UINT32_MAX)
        return false;
    uint32_t c = g->p[find(g, x)] & ~ROOT;
    if (c == NOCOMP || g->csize[c] <= SE_GRAPH_MAX_IDENTITIES || g->csize[c] == REPORTED)
        return false;
    g->csize[c] = REPORTED;
    return true;
}

/* ---- the guardrail ---------------------------------------------------- */

void se_idguard_reset(se_idguard *g)
{
    g->n = 0;
    g->over = false;
}

static int guard_one(void *ud, const se_ident *k, bool primary)
{
    se_idguard *g = ud;
    (void)primary;
    uint64_t h = se_ident_hash(k->ns, k->nslen, k->id, k->idlen);
    for (size_t i = 0; i < g->n; i++)
        if (g->h[i] == h)
            return 0;
    if (g->n == SE_GRAPH_MAX_IDENTITIES) {
        g->over = true;
        return 1;
    }
    g->h[g->n++] = h;
    return 0;
}

bool se_idguard_add(se_idguard *g, json_object *identity_map)
{
    if (!g->over)
        each_ident(identity_map, guard_one, g);
    return !g->over;
}

bool se_idguard_add_one(se_idguard *g, const se_ident *k)
{
    if (!g->over)
        guard_one(g, k, false);
    return !g->over;
}

/* Remembered profile keys for the grouping check; see groupcheck.h for the
 * memory cost. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "groupcheck.h"
#include "record.h"

struct entry {
    uint64_t hash;      /* 0 marks an empty slot (a real 0 hash is stored as 1) */
    uint64_t line;
    uint32_t name;      /* index into names */
};

struct se_groupcheck {
    struct entry *tab;
    size_t cap, used;    /* cap is a power of two */
    char **names;        /* interned input names: consecutive groups share one */
    size_t nnames, capnames;
};

/* Tables of 2 MiB and more are mapped on their own, 2 MiB-aligned, and
 * offered huge pages (madvise; a hint the kernel may ignore): the table is
 * written at random places, so with 4 KiB pages nearly every new key early
 * on costs a page fault and later a TLB miss.  Smaller ones come from
 * calloc.  Both are zeroed. */
#define HUGE_BYTES ((size_t)2 << 20)

static struct entry *table_alloc(size_t cap)
{
    size_t n = cap * sizeof(struct entry);
    if (n < HUGE_BYTES)
        return calloc(cap, sizeof(struct entry));
    char *m = mmap(NULL, n + HUGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    size_t head = (HUGE_BYTES - (size_t)((uintptr_t)m % HUGE_BYTES)) % HUGE_BYTES;
    if (head)
        munmap(m, head);
    munmap(m + head + n, HUGE_BYTES - head);
#ifdef MADV_HUGEPAGE
    madvise(m + head, n, MADV_HUGEPAGE);
#endif
    return (struct entry *)(void *)(m + head);
}

static void table_free(struct entry *t, size_t cap)
{
    size_t n = cap * sizeof(struct entry);
    if (n < HUGE_BYTES)
        free(t);
    else if (t)
        munmap(t, n);
}

se_groupcheck *se_groupcheck_new(void)
{
    se_groupcheck *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cap = 1024;
    g->tab = table_alloc(g->cap);
    if (!g->tab) {
        free(g);
        return NULL;
    }
    return g;
}

void se_groupcheck_free(se_groupcheck *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nnames; i++)
        free(g->names[i]);
    free(g->names);
    table_free(g->tab, g->cap);
    free(g);
}

static int intern(se_groupcheck *g, const char *name, uint32_t *idx)
{
    if (g->nnames && !strcmp(g->names[g->nnames - 1], name)) {
        *idx = (uint32_t)(g->nnames - 1);
        return 0;
    }
    if (g->nnames == g->capnames) {
        size_t nc = g->capnames ? 2 * g->capnames : 8;
        char **n = realloc(g->names, nc * sizeof *n);
        if (!n)
            return -1;
        g->names = n;
        g->capnames = nc;
    }
    if (!(g->names[g->nnames] = strdup(name)))
        return -1;
    *idx = (uint32_t)g->nnames++;
    return 0;
}

static struct entry *slot(struct entry *tab, size_t cap, uint64_t h)
{
    size_t i = (size_t)(h ^ (h >> 29)) & (cap - 1);
    while (tab[i].hash && tab[i].hash != h)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

void se_groupcheck_prefetch(const se_groupcheck *g, uint64_t h)
{
    if (h == 0)
        h = 1;
    __builtin_prefetch(&g->tab[(size_t)(h ^ (h >> 29)) & (g->cap - 1)]);
}

static int grow(se_groupcheck *g)
{
    size_t nc = g->cap * 2;
    struct entry *nt = table_alloc(nc);
    if (!nt)
        return -1;
    for (size_t i = 0; i < g->cap; i++)
        if (g->tab[i].hash)
            *slot(nt, nc, g->tab[i].hash) = g->tab[i];
    table_free(g->tab, g->cap);
    g->tab = nt;
    g->cap = nc;
    return 0;
}

int se_groupcheck_add(se_groupcheck *g, const char *key, const char *name, uint64_t line,
                      const char **prev_name, uint64_t *prev_line)
{
    return se_groupcheck_add_hash(g, se_fnv1a64(key, strlen(key)), name, line, prev_name, prev_line);
}

int se_groupcheck_add_hash(se_groupcheck *g, uint64_t h, const char *name, uint64_t line,
                           const char **prev_name, uint64_t *prev_line)
{
    struct entry *e;
    uint32_t idx;

    if (h == 0)
        h = 1;
    e = slot(g->tab, g->cap, h);
    if (e->hash) {
        *prev_name = g->names[e->name];
        *prev_line = e->line;
        return 1;
    }
    if (intern(g, name, &idx))
        return -1;
    if ((g->used + 1) * 2 > g->cap) {
        if (grow(g))
            return -1;
        e = slot(g->tab, g->cap, h);
    }
    e->hash = h;
    e->line = line;
    e->name = idx;
    g->used++;
    return 0;
}

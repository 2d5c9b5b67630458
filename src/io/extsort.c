/* External, stable sort of KEY<TAB>RECORD lines (see extsort.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "extsort.h"
#include "fsutil.h"

#define WBUF (1u << 20)
#define RBUF (1u << 16)

typedef struct ent {
    size_t off, len;           /* the line in buf, LF included */
    size_t klen;
} ent;

struct se_extsort {
    char *dir;
    size_t mem;
    char *buf;
    size_t len, cap;
    ent *ents;
    size_t nents, cap_ents;
    int *runs;
    size_t nruns, cap_runs;
    size_t lines;
    char *wbuf;
    size_t wlen;
};

se_extsort *se_extsort_new(const char *dir, size_t mem)
{
    se_extsort *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir)) || !(s->wbuf = malloc(WBUF))) {
        se_extsort_free(s);
        return NULL;
    }
    s->mem = mem < 4096 ? 4096 : mem;
    return s;
}

void se_extsort_free(se_extsort *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nruns; i++)
        close(s->runs[i]);
    free(s->runs);
    free(s->buf);
    free(s->ents);
    free(s->wbuf);
    free(s->dir);
    free(s);
}

size_t se_extsort_lines(const se_extsort *s) { return s->lines; }
size_t se_extsort_runs(const se_extsort *s) { return s->nruns; }

/* An unlinked temporary file in dir. */
static int temp_file(const se_extsort *s, char *err, size_t errlen)
{
#ifdef O_TMPFILE
    int fd = open(s->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
#endif
    char *path = se_asprintf("%s/.segexport-sort-XXXXXX", s->dir);
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* under the temporary-file lock: a cancelled job's forced end never
     * comes between creation and unlink (fsutil.h) */
    se_tmp_lock();
    int tfd = mkostemp(path, O_CLOEXEC);
    if (tfd < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    else
        unlink(path);
    se_tmp_unlock();
    free(path);
    return tfd;
}

static int wflush(se_extsort *s, int fd, char *err, size_t errlen)
{
    if (s->wlen && se_write_all(fd, s->wbuf, s->wlen) != 0) {
        snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(errno));
        return -1;
    }
    s->wlen = 0;
    return 0;
}

static int wput(se_extsort *s, int fd, const char *p, size_t n, char *err, size_t errlen)
{
    if (s->wlen + n > WBUF && wflush(s, fd, err, errlen) != 0)
        return -1;
    if (n > WBUF) {
        if (se_write_all(fd, p, n) != 0) {
            snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(errno));
            return -1;
        }
        return 0;
    }
    memcpy(s->wbuf + s->wlen, p, n);
    s->wlen += n;
    return 0;
}

static int cmp_key(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static int cmp_ent(const void *x, const void *y, void *ud)
{
    const ent *a = x, *b = y;
    const char *buf = ud;
    int c = cmp_key(buf + a->off, a->klen, buf + b->off, b->klen);
    if (c)
        return c;
    return a->off < b->off ? -1 : a->off > b->off; /* stable */
}

/* Sorts the buffer and writes it to fd. */
static int write_sorted(se_extsort *s, int fd, char *err, size_t errlen)
{
    if (s->nents > 1)
        qsort_r(s->ents, s->nents, sizeof *s->ents, cmp_ent, s->buf);
    for (size_t i = 0; i < s->nents; i++)
        if (wput(s, fd, s->buf + s->ents[i].off, s->ents[i].len, err, errlen) != 0)
            return -1;
    if (wflush(s, fd, err, errlen) != 0)
        return -1;
    s->nents = 0;
    s->len = 0;
    return 0;
}

static int spill(se_extsort *s, char *err, size_t errlen)
{
    if (s->nruns == s->cap_runs) {
        size_t nc = s->cap_runs ? 2 * s->cap_runs : 16;
        int *nr = realloc(s->runs, nc * sizeof *nr);
        if (!nr) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->runs = nr;
        s->cap_runs = nc;
    }
    int fd = temp_file(s, err, errlen);
    if (fd < 0)
        return -1;
    s->runs[s->nruns++] = fd;
    return write_sorted(s, fd, err, errlen);
}

int se_extsort_add(se_extsort *s, const char *key, size_t klen, const char *rec, size_t rlen,
                   char *err, size_t errlen)
{
    size_t n = klen + rlen + 2;
    if (s->nents && s->len + n + (s->nents + 1) * sizeof(ent) > s->mem && spill(s, err, errlen) != 0)
        return -1;
    if (s->len + n > s->cap) {
        size_t nc = s->cap ? s->cap : 65536;
        while (nc < s->len + n)
            nc *= 2;
        char *nb = realloc(s->buf, nc);
        if (!nb)
            goto oom;
        s->buf = nb;
        s->cap = nc;
    }
    if (s->nents == s->cap_ents) {
        size_t nc = s->cap_ents ? 2 * s->cap_ents : 1024;
        ent *ne = realloc(s->ents, nc * sizeof *ne);
        if (!ne)
            goto oom;
        s->ents = ne;
        s->cap_ents = nc;
    }
    char *o = s->buf + s->len;
    memcpy(o, key, klen);
    o[klen] = '\t';
    memcpy(o + klen + 1, rec, rlen);
    o[klen + 1 + rlen] = '\n';
    s->ents[s->nents++] = (ent){ s->len, n, klen };
    s->len += n;
    s->lines++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* One run being merged. */
typedef struct reader {
    FILE *f;
    char *line;
    size_t cap;
    ssize_t len;
    size_t klen;
    size_t idx;                /* run order: the tie-breaker that keeps the sort stable */
} reader;

static int rd_next(reader *r)
{
    r->len = getline(&r->line, &r->cap, r->f);
    if (r->len < 0)
        return ferror(r->f) ? -1 : 0;
    const char *tab = memchr(r->line, '\t', (size_t)r->len);
    r->klen = tab ? (size_t)(tab - r->line) : (size_t)r->len;
    return 1;
}

static bool rd_less(const reader *a, const reader *b)
{
    int c = cmp_key(a->line, a->klen, b->line, b->klen);
    return c < 0 || (c == 0 && a->idx < b->idx);
}

static void sift(reader **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && rd_less(h[l], h[m]))
            m = l;
        if (l + 1 < n && rd_less(h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        reader *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

int se_extsort_finish(se_extsort *s, char *err, size_t errlen)
{
    int out = temp_file(s, err, errlen);
    reader *rd = NULL, **heap = NULL;
    size_t nh = 0;
    int rc = -1;

    if (out < 0)
        return -1;
    if (s->nruns == 0) {
        if (write_sorted(s, out, err, errlen) != 0)
            goto out;
        rc = 0;
        goto out;
    }
    if (s->nents && spill(s, err, errlen) != 0)
        goto out;
    free(s->buf); /* the merge needs none of it */
    s->buf = NULL;
    s->cap = 0;
    if (!(rd = calloc(s->nruns, sizeof *rd)) || !(heap = calloc(s->nruns, sizeof *heap))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->nruns; i++) {
        int fd = dup(s->runs[i]);
        rd[i].idx = i;
        if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0 || !(rd[i].f = fdopen(fd, "r"))) {
            if (fd >= 0)
                close(fd);
            snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(errno));
            goto out;
        }
        setvbuf(rd[i].f, NULL, _IOFBF, RBUF);
        int r = rd_next(&rd[i]);
        if (r < 0)
            goto rerr;
        if (r > 0)
            heap[nh++] = &rd[i];
    }
    for (size_t i = nh; i-- > 0;)
        sift(heap, nh, i);
    while (nh) {
        reader *top = heap[0];
        if (wput(s, out, top->line, (size_t)top->len, err, errlen) != 0)
            goto out;
        int r = rd_next(top);
        if (r < 0)
            goto rerr;
        if (r == 0)
            heap[0] = heap[--nh];
        sift(heap, nh, 0);
    }
    if (wflush(s, out, err, errlen) != 0)
        goto out;
    rc = 0;
    goto out;
rerr:
    snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(errno));
out:
    if (rd) {
        for (size_t i = 0; i < s->nruns; i++) {
            if (rd[i].f)
                fclose(rd[i].f);
            free(rd[i].line);
        }
    }
    free(rd);
    free(heap);
    for (size_t i = 0; i < s->nruns; i++)
        close(s->runs[i]);
    s->nruns = 0;
    if (rc != 0) {
        close(out);
        return -1;
    }
    if (lseek(out, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(errno));
        close(out);
        return -1;
    }
    return out;
}

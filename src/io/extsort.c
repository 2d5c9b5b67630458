/* External, stable sort of KEY<TAB>RECORD lines (see extsort.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "extsort.h"
#include "fsutil.h"

#define WBUF (1u << 20)
#define RBUF (1u << 16)
#define PIPE_BYTES (1 << 20) /* the stream's pipe: fewer wake-ups than 64 KiB */

/* One line of a buffer.  The key's first 16 bytes ride along as two
 * big-endian integers, so that most comparisons of the sort are decided
 * without touching the buffer (a cache miss each). */
typedef struct ent {
    uint64_t p0, p1;
    size_t off, len;           /* the line in data, LF included */
    size_t klen;
} ent;

typedef struct sbuf {
    char *data;
    size_t len, cap;
    ent *ents;
    size_t n, cap_ents;
} sbuf;

/* A buffered writer to a descriptor; errno is kept on failure. */
typedef struct wr {
    int fd;
    char *buf;
    size_t len;
} wr;

/* A full buffer sorted and written as a run on its own thread while the
 * other buffer fills. */
typedef struct spiller {
    pthread_t th;
    bool busy;
    sbuf *b;
    int fd;
    int rc, err_no;
    wr w;
} spiller;

struct se_extsort {
    char *dir;
    char *owner;               /* the batch id a named temporary carries */
    size_t mem;
    sbuf b[2];                 /* b[cur] fills; the other may be with the spiller */
    int cur;
    int *runs;
    size_t nruns, cap_runs;
    size_t lines;
    spiller sp;
    /* se_extsort_stream */
    pthread_t st_th;
    bool st_running;
    int st_wfd, st_rc;
    char st_err[512];
    void (*on_fail)(void *ud, const char *err);
    void *fail_ud;
};

se_extsort *se_extsort_new(const char *dir, const char *owner, size_t mem)
{
    se_extsort *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir)) || !(s->owner = strdup(owner)) ||
        !(s->sp.w.buf = malloc(WBUF))) {
        se_extsort_free(s);
        return NULL;
    }
    s->mem = mem < 8192 ? 8192 : mem;
    s->st_wfd = -1;
    return s;
}

static void sbuf_free(sbuf *b)
{
    free(b->data);
    free(b->ents);
    memset(b, 0, sizeof *b);
}

static void spill_join(se_extsort *s)
{
    if (s->sp.busy) {
        pthread_join(s->sp.th, NULL);
        s->sp.busy = false;
    }
}

void se_extsort_free(se_extsort *s)
{
    if (!s)
        return;
    spill_join(s);
    if (s->st_running)
        pthread_join(s->st_th, NULL); /* (the caller closed the read end) */
    for (size_t i = 0; i < s->nruns; i++)
        close(s->runs[i]);
    free(s->runs);
    sbuf_free(&s->b[0]);
    sbuf_free(&s->b[1]);
    free(s->sp.w.buf);
    free(s->dir);
    free(s->owner);
    free(s);
}

size_t se_extsort_lines(const se_extsort *s) { return s->lines; }
size_t se_extsort_runs(const se_extsort *s) { return s->nruns; }

int se_extsort_tempfile(const char *dir, const char *owner, char *err, size_t errlen)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
#endif
    /* No nameless file here (a file system without O_TMPFILE): a named one,
     * unlinked at once.  Its name is among the owner batch's temporaries
     * (".<batchId>.*"), so a process killed before the unlink leaves it where
     * the job's sweeps (its end, a cancel, a dead worker found by get or
     * list: se_batch_remove_temps) remove it. */
    char *path = se_asprintf("%s/.%s.sort-XXXXXX", dir, owner);
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

static int temp_file(const se_extsort *s, char *err, size_t errlen)
{
    return se_extsort_tempfile(s->dir, s->owner, err, errlen);
}

static int wflush(wr *w)
{
    if (w->len && se_write_all(w->fd, w->buf, w->len) != 0)
        return -1;
    w->len = 0;
    return 0;
}

static int wput(wr *w, const char *p, size_t n)
{
    if (w->len + n > WBUF && wflush(w) != 0)
        return -1;
    if (n > WBUF)
        return se_write_all(w->fd, p, n);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

static int cmp_key(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Zero padding orders a key before any longer key it begins (the bytes
 * compared past its end are 0 against >= 0), so the prefixes' order never
 * contradicts cmp_key's; equal prefixes go to the whole keys. */
static int cmp_ent(const void *x, const void *y, void *ud)
{
    const ent *a = x, *b = y;
    if (a->p0 != b->p0)
        return a->p0 < b->p0 ? -1 : 1;
    if (a->p1 != b->p1)
        return a->p1 < b->p1 ? -1 : 1;
    const char *data = ud;
    int c = cmp_key(data + a->off, a->klen, data + b->off, b->klen);
    if (c)
        return c;
    return a->off < b->off ? -1 : a->off > b->off; /* stable */
}

static void sort_buf(sbuf *b)
{
    if (b->n > 1)
        qsort_r(b->ents, b->n, sizeof *b->ents, cmp_ent, b->data);
}

/* Sorts b and writes it through w; b is empty after.  0, or -1 (errno). */
static int write_sorted(sbuf *b, wr *w)
{
    sort_buf(b);
    for (size_t i = 0; i < b->n; i++)
        if (wput(w, b->data + b->ents[i].off, b->ents[i].len) != 0)
            return -1;
    if (wflush(w) != 0)
        return -1;
    b->n = 0;
    b->len = 0;
    return 0;
}

static void *spill_main(void *arg)
{
    spiller *sp = arg;
    sp->w.fd = sp->fd;
    sp->w.len = 0;
    sp->rc = write_sorted(sp->b, &sp->w);
    sp->err_no = sp->rc ? errno : 0;
    return NULL;
}

static int spill_result(se_extsort *s, char *err, size_t errlen)
{
    spill_join(s);
    if (s->sp.rc != 0) {
        snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(s->sp.err_no));
        return -1;
    }
    return 0;
}

/* The filling buffer becomes a run: sorted and written by the spiller
 * (on its thread, or here when no thread can be had) while the other
 * buffer, written out by then, takes the next lines. */
static int spill(se_extsort *s, char *err, size_t errlen)
{
    if (spill_result(s, err, errlen) != 0)
        return -1;
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
    s->sp.b = &s->b[s->cur];
    s->sp.fd = fd;
    s->cur ^= 1;
    if (pthread_create(&s->sp.th, NULL, spill_main, &s->sp) == 0) {
        s->sp.busy = true;
        return 0;
    }
    spill_main(&s->sp);
    return spill_result(s, err, errlen);
}

int se_extsort_add(se_extsort *s, const char *key, size_t klen, const char *rec, size_t rlen,
                   char *err, size_t errlen)
{
    size_t n = klen + rlen + 2;
    sbuf *b = &s->b[s->cur];
    /* Two buffers of half the bound each: one fills while one is written. */
    if (b->n && b->len + n + (b->n + 1) * sizeof(ent) > s->mem / 2) {
        if (spill(s, err, errlen) != 0)
            return -1;
        b = &s->b[s->cur];
    }
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 65536;
        while (nc < b->len + n)
            nc *= 2;
        char *nb = realloc(b->data, nc);
        if (!nb)
            goto oom;
        b->data = nb;
        b->cap = nc;
    }
    if (b->n == b->cap_ents) {
        size_t nc = b->cap_ents ? 2 * b->cap_ents : 1024;
        ent *ne = realloc(b->ents, nc * sizeof *ne);
        if (!ne)
            goto oom;
        b->ents = ne;
        b->cap_ents = nc;
    }
    char *o = b->data + b->len;
    unsigned char pre[16] = { 0 };
    memcpy(pre, key, klen < 16 ? klen : 16);
    memcpy(o, key, klen);
    o[klen] = '\t';
    memcpy(o + klen + 1, rec, rlen);
    o[klen + 1 + rlen] = '\n';
    b->ents[b->n++] = (ent){ be64(pre), be64(pre + 8), b->len, n, klen };
    b->len += n;
    s->lines++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ---- merging ----------------------------------------------------------- */

/* One source of the merge: a run file (read through a buffer of its own,
 * lines handed out in place), or the last buffer, sorted in memory. */
typedef struct reader {
    int fd;
    const sbuf *mem;
    size_t mi;
    char *buf;
    size_t cap, beg, end;
    const char *line;
    size_t len, klen;
    size_t idx;                /* run order: the tie-breaker that keeps the sort stable */
} reader;

static int rd_next(reader *r)
{
    if (r->mem) {
        if (r->mi == r->mem->n)
            return 0;
        const ent *e = &r->mem->ents[r->mi++];
        r->line = r->mem->data + e->off;
        r->len = e->len;
        r->klen = e->klen;
        return 1;
    }
    for (;;) {
        const char *nl = r->end > r->beg ? memchr(r->buf + r->beg, '\n', r->end - r->beg) : NULL;
        if (nl || (r->fd < 0 && r->end > r->beg)) {
            /* (every line ends in LF; at the end a last one would not) */
            size_t n = nl ? (size_t)(nl + 1 - (r->buf + r->beg)) : r->end - r->beg;
            r->line = r->buf + r->beg;
            r->len = n;
            r->beg += n;
            const char *tab = memchr(r->line, '\t', n);
            r->klen = tab ? (size_t)(tab - r->line) : n;
            return 1;
        }
        if (r->fd < 0)
            return 0;
        if (r->beg > 0) {
            memmove(r->buf, r->buf + r->beg, r->end - r->beg);
            r->end -= r->beg;
            r->beg = 0;
        }
        if (r->end == r->cap) { /* a line longer than the buffer */
            char *nb = realloc(r->buf, 2 * r->cap);
            if (!nb)
                return -1;
            r->buf = nb;
            r->cap *= 2;
        }
        ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            r->fd = -1; /* the end: what is left is the last line */
        r->end += (size_t)got;
    }
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

/* Every line added, in order, through w: the runs and the filling buffer
 * (sorted here) merged.  Closes the runs.  0, or -1 with err; *werr tells
 * a failed write to w (errno in *err_no) from the rest. */
static int merge_to(se_extsort *s, wr *w, bool *werr, int *err_no, char *err, size_t errlen)
{
    sbuf *last = &s->b[s->cur];
    size_t nsrc = s->nruns + 1, nh = 0;
    reader *rd = NULL, **heap = NULL;
    int rc = -1;

    *werr = false;
    sbuf_free(&s->b[s->cur ^ 1]); /* (the spiller is done with it) */
    sort_buf(last);
    if (!(rd = calloc(nsrc, sizeof *rd)) || !(heap = calloc(nsrc, sizeof *heap))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nsrc; i++) {
        rd[i].idx = i;
        rd[i].fd = -1;
        if (i == s->nruns) {
            rd[i].mem = last;
        } else {
            if (lseek(s->runs[i], 0, SEEK_SET) != 0)
                goto rerr;
            rd[i].fd = s->runs[i];
            if (!(rd[i].buf = malloc(RBUF))) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            rd[i].cap = RBUF;
        }
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
        if (wput(w, top->line, top->len) != 0)
            goto werr;
        int r = rd_next(top);
        if (r < 0)
            goto rerr;
        if (r == 0)
            heap[0] = heap[--nh];
        sift(heap, nh, 0);
    }
    if (wflush(w) != 0)
        goto werr;
    rc = 0;
    goto out;
werr:
    *werr = true;
    *err_no = errno;
    snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
    goto out;
rerr:
    snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(errno));
out:
    if (rd)
        for (size_t i = 0; i < nsrc; i++)
            free(rd[i].buf);
    free(rd);
    free(heap);
    for (size_t i = 0; i < s->nruns; i++)
        close(s->runs[i]);
    s->nruns = 0;
    sbuf_free(last);
    return rc;
}

int se_extsort_finish(se_extsort *s, char *err, size_t errlen)
{
    if (spill_result(s, err, errlen) != 0)
        return -1;
    int out = temp_file(s, err, errlen);
    if (out < 0)
        return -1;
    wr w = { out, s->sp.w.buf, 0 };
    bool werr;
    int err_no;
    if (merge_to(s, &w, &werr, &err_no, err, errlen) != 0) {
        if (werr)
            snprintf(err, errlen, "%s: temporary file: %s", s->dir, strerror(err_no));
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

/* ---- streaming --------------------------------------------------------- */

static void *stream_main(void *arg)
{
    se_extsort *s = arg;
    sigset_t pipe_set;
    bool werr;
    int err_no = 0;

    /* A reader that went away makes write fail with EPIPE; its SIGPIPE (sent
     * to this thread) stays pending here and is taken back below. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    wr w = { s->st_wfd, s->sp.w.buf, 0 };
    s->st_rc = merge_to(s, &w, &werr, &err_no, s->st_err, sizeof s->st_err);
    if (s->st_rc != 0 && werr && err_no == EPIPE) {
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
            ;
        s->st_rc = 0; /* the reader stopped early: its own failure says why */
    } else if (s->st_rc != 0 && s->on_fail) {
        s->on_fail(s->fail_ud, s->st_err); /* before the end of input shows */
    }
    close(s->st_wfd);
    s->st_wfd = -1;
    return NULL;
}

int se_extsort_stream(se_extsort *s, void (*on_fail)(void *ud, const char *err), void *ud,
                      char *err, size_t errlen)
{
    int fds[2];
    if (spill_result(s, err, errlen) != 0)
        return -1;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "%s: pipe: %s", s->dir, strerror(errno));
        return -1;
    }
#ifdef F_SETPIPE_SZ
    (void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_BYTES); /* (a smaller pipe works too) */
#endif
    s->on_fail = on_fail;
    s->fail_ud = ud;
    s->st_wfd = fds[1];
    if (pthread_create(&s->st_th, NULL, stream_main, s) != 0) {
        snprintf(err, errlen, "%s: cannot start a thread", s->dir);
        close(fds[0]);
        close(fds[1]);
        s->st_wfd = -1;
        return -1;
    }
    s->st_running = true;
    return fds[0];
}

int se_extsort_stream_end(se_extsort *s, char *err, size_t errlen)
{
    if (!s->st_running)
        return 0;
    pthread_join(s->st_th, NULL);
    s->st_running = false;
    if (s->st_rc != 0) {
        snprintf(err, errlen, "%s", s->st_err);
        return -1;
    }
    return 0;
}

/* Batches compressed off the critical path (see gzspool.h).
 *
 * One process-wide pool: compression threads, a FIFO of filled buffers and a
 * free list of spare buffers.  It is created with the first stream and ends
 * with the last (so a fork() between jobs finds no thread to lose).  A stream
 * always owns exactly one buffer: submitting swaps its full buffer for a free
 * one, so the number of buffers never changes.
 *
 * Several threads compress different buffers at once, each into its own
 * memory; a stream's buffers carry sequence numbers and reach its spool in
 * that order (a thread whose buffer is done waits for its turn), so the spool
 * is the same with any number of threads.  The queue is FIFO, so the buffer
 * a thread waits for is always already being compressed by another.
 *
 * A thread touches a stream's worker-side fields (comp, ncomp) and its spool
 * fd only on its turn (written == seq, handed over under the pool's mutex);
 * the caller reads them after waiting for inflight == 0 under the mutex. */
#include "gzspool.h"
#include "fsutil.h"
#include "gzspool_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_THREADS 4

typedef struct gzbuf gzbuf;
struct gzbuf {
    gzbuf *next;
    se_gzs *owner;
    uint64_t seq;         /* the owner's submission number */
    char *data;           /* SE_GZ_SEG bytes */
    size_t len;
    size_t first_part;    /* part of the first segment */
    size_t *ends;         /* segment i is [ends[i-1], ends[i]), the last one [.., len) */
    size_t nends, cap_ends;
};

/* One compressor: a thread's, or the callers' (inline mode, under mu). */
typedef struct worker {
    z_stream z;
    int zlevel;               /* -1: z not initialized */
    unsigned char *zout;      /* SE_GZ_OUT */
    ZSTD_CCtx *zc;            /* NULL until the first zstd segment */
    membuf ztmp;              /* zstd's output bound */
    lzma_stream xs;
    membuf out;
    struct pool *pl;
    pthread_t th;
} worker;

typedef struct pool pool;
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    int nth;                  /* threads running; 0: inline */
    bool stop;
    int refs;
    gzbuf *head, *tail;       /* queued, oldest first */
    gzbuf *free_;             /* spare buffers (all of them once no stream is left) */
    worker w[MAX_THREADS];    /* w[0] is the inline one when nth == 0 */
};

struct se_gzs {
    struct pool *pl;
    int fd, level;
    se_gz_codec codec;
    gzbuf *cur;
    size_t part;              /* current part */
    bool have_part;
    uint64_t next_seq;        /* caller side */
    uint64_t written;         /* under pool.mu: buffers in the spool (or dropped) */
    size_t inflight;          /* under pool.mu */
    bool discard;             /* under pool.mu: free() wants the rest dropped */
    /* worker side */
    uint64_t *comp;           /* compressed bytes per part */
    size_t ncomp, cap_comp;
    int werr;                 /* first error; written under pool.mu */
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pool *the_pool;
static int want_threads = -1; /* -1: one per core (at most MAX_THREADS) */

void se_gzs_set_threads(int n)
{
    pthread_mutex_lock(&pool_mu);
    want_threads = n < 0 ? -1 : n > MAX_THREADS ? MAX_THREADS : n;
    pthread_mutex_unlock(&pool_mu);
}

static int threads_wanted(void)
{
    if (want_threads >= 0)
        return want_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static gzbuf *buf_new(void)
{
    gzbuf *b = calloc(1, sizeof *b);
    if (b && !(b->data = malloc(SE_GZ_SEG))) {
        free(b);
        return NULL;
    }
    return b;
}

static void buf_free(gzbuf *b)
{
    if (b) {
        free(b->data);
        free(b->ends);
        free(b);
    }
}

/* ---- the compressors ---- */

static int put_comp(se_gzs *s, size_t part, uint64_t n)
{
    if (part >= s->cap_comp) {
        size_t cap = s->cap_comp ? s->cap_comp : 16;
        while (cap <= part)
            cap *= 2;
        uint64_t *c = realloc(s->comp, cap * sizeof *c);
        if (!c)
            return ENOMEM;
        memset(c + s->cap_comp, 0, (cap - s->cap_comp) * sizeof *c);
        s->comp = c;
        s->cap_comp = cap;
    }
    s->comp[part] += n;
    if (part + 1 > s->ncomp)
        s->ncomp = part + 1;
    return 0;
}

/* One segment in the stream's codec. */
static int comp_seg(worker *w, const se_gzs *s, const void *data, size_t n, int last,
                    sink_fn sink, void *ud)
{
    if (s->codec == SE_GZC_ZSTD)
        return se_gz_zstd_seg(&w->zc, s->level, data, n, sink, ud, &w->ztmp);
    if (s->codec == SE_GZC_XZ)
        return se_gz_xz_seg(&w->xs, s->level, data, n, sink, ud, w->zout, SE_GZ_OUT);
    return se_gz_deflate_seg(&w->z, &w->zlevel, s->level, w->zout, SE_GZ_OUT, data, n, last, sink, ud);
}

/* Compresses every segment of b into w->out, noting each part's share in
 * parts[] (compressed bytes of segment i's part) .  0, or an errno. */
static int compress_buf(worker *w, gzbuf *b)
{
    se_gzs *s = b->owner;
    size_t start = 0;
    int e = 0;

    w->out.len = 0;
    for (size_t i = 0; i <= b->nends && !e; i++) {
        size_t end = i < b->nends ? b->ends[i] : b->len;
        if (end > start) {
            size_t before = w->out.len;
            e = comp_seg(w, s, b->data + start, end - start, 0, se_gz_to_mem, &w->out);
            /* the segment's compressed size, in place of its end (read back by spool_buf) */
            if (!e && i < b->nends)
                b->ends[i] = w->out.len - before;
            else if (!e)
                b->len = w->out.len - before;
        } else if (i < b->nends) {
            b->ends[i] = 0;
        } else {
            b->len = 0;
        }
        start = end;
    }
    return e;
}

/* Appends w->out, compressed from b, to the stream's spool (its turn). */
static int spool_buf(worker *w, gzbuf *b)
{
    se_gzs *s = b->owner;
    if (w->out.len && se_write_all(s->fd, (const char *)w->out.p, w->out.len) != 0)
        return errno ? errno : EIO;
    for (size_t i = 0; i <= b->nends; i++) {
        uint64_t n = i < b->nends ? b->ends[i] : b->len;
        int e = n ? put_comp(s, b->first_part + i, n) : 0;
        if (e)
            return e;
    }
    return 0;
}

/* Compresses b and puts it in its stream's spool in order; mu held on entry
 * and exit, released while compressing and writing. */
static void process(pool *pl, worker *w, gzbuf *b)
{
    se_gzs *s = b->owner;
    /* After an error the stream's later segments are dropped. */
    bool skip = s->discard || s->werr;
    int e = 0;

    if (!skip) {
        if (pl->nth)
            pthread_mutex_unlock(&pl->mu);
        e = compress_buf(w, b);
        if (pl->nth)
            pthread_mutex_lock(&pl->mu);
    }
    while (s->written != b->seq)
        pthread_cond_wait(&pl->done, &pl->mu);
    if (!e && !skip && !s->discard && !s->werr) {
        if (pl->nth)
            pthread_mutex_unlock(&pl->mu);
        e = spool_buf(w, b);
        if (pl->nth)
            pthread_mutex_lock(&pl->mu);
    }
    if (e && !s->werr)
        s->werr = e;
    s->written++;
}

static void *compressor(void *arg)
{
    worker *w = arg;
    pool *pl = w->pl;

    pthread_mutex_lock(&pl->mu);
    for (;;) {
        while (!pl->head && !pl->stop)
            pthread_cond_wait(&pl->work, &pl->mu);
        if (!pl->head)
            break;
        gzbuf *b = pl->head;
        pl->head = b->next;
        if (!pl->head)
            pl->tail = NULL;
        process(pl, w, b);
        b->owner->inflight--;
        b->owner = NULL;
        b->next = pl->free_;
        pl->free_ = b;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

/* ---- the pool ---- */

static void pool_destroy(pool *pl)
{
    if (pl->nth) {
        pthread_mutex_lock(&pl->mu);
        pl->stop = true;
        pthread_cond_broadcast(&pl->work);
        pthread_mutex_unlock(&pl->mu);
        for (int i = 0; i < pl->nth; i++)
            pthread_join(pl->w[i].th, NULL);
    }
    /* Buffers move between streams and the pool; with no stream left, every
     * spare is on the free list. */
    while (pl->free_) {
        gzbuf *b = pl->free_;
        pl->free_ = b->next;
        buf_free(b);
    }
    for (int i = 0; i < MAX_THREADS; i++) {
        if (pl->w[i].zlevel != -1)
            deflateEnd(&pl->w[i].z);
        free(pl->w[i].zout);
        free(pl->w[i].out.p);
        ZSTD_freeCCtx(pl->w[i].zc);
        free(pl->w[i].ztmp.p);
        lzma_end(&pl->w[i].xs);
    }
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->work);
    pthread_cond_destroy(&pl->done);
    free(pl);
}

/* pool_mu held. */
static pool *pool_create(void)
{
    pool *pl = calloc(1, sizeof *pl);
    int want = threads_wanted(), nw = want ? want : 1;

    if (!pl)
        return NULL;
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->work, NULL);
    pthread_cond_init(&pl->done, NULL);
    for (int i = 0; i < MAX_THREADS; i++) {
        pl->w[i].zlevel = -1;
        pl->w[i].pl = pl;
        pl->w[i].xs = (lzma_stream)LZMA_STREAM_INIT;
    }
    bool ok = true;
    for (int i = 0; i < nw; i++)
        ok = ok && (pl->w[i].zout = malloc(SE_GZ_OUT)) != NULL;
    /* Two spare buffers for each thread: one being compressed, one queued. */
    size_t n = 0, spare = SE_GZ_INFLIGHT + 2 * (size_t)(nw - 1);
    for (; ok && n < spare; n++) {
        gzbuf *b = buf_new();
        if (!b)
            break;
        b->next = pl->free_;
        pl->free_ = b;
    }
    if (!ok || n < spare) {
        pool_destroy(pl);
        return NULL;
    }
    /* The threads take no signal: they stay with the threads that wait for them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (pl->nth < want && pthread_create(&pl->w[pl->nth].th, NULL, compressor, &pl->w[pl->nth]) == 0)
        pl->nth++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pl;
}

/* Hands s's buffer to the compressors (or, inline, compresses it) and gives s
 * an empty one. */
static void submit(se_gzs *s)
{
    pool *pl = s->pl;
    gzbuf *b = s->cur;

    b->owner = s;
    b->seq = s->next_seq++;
    pthread_mutex_lock(&pl->mu);
    if (pl->nth) {
        s->inflight++;
        b->next = NULL;
        if (pl->tail)
            pl->tail->next = b;
        else
            pl->head = b;
        pl->tail = b;
        pthread_cond_signal(&pl->work);
        while (!pl->free_)
            pthread_cond_wait(&pl->done, &pl->mu);
        s->cur = pl->free_;
        pl->free_ = s->cur->next;
    } else {
        /* Inline: compress here, under the mutex (w[0] is shared). */
        process(pl, &pl->w[0], b);
        b->owner = NULL;
    }
    pthread_mutex_unlock(&pl->mu);
    s->cur->next = NULL;
    s->cur->owner = NULL;
    s->cur->len = 0;
    s->cur->nends = 0;
}

/* Waits until s has nothing in flight; returns its worker error (0 if none). */
static int drain(se_gzs *s)
{
    pool *pl = s->pl;
    int e;

    pthread_mutex_lock(&pl->mu);
    while (s->inflight)
        pthread_cond_wait(&pl->done, &pl->mu);
    e = s->werr;
    pthread_mutex_unlock(&pl->mu);
    return e;
}

static int werr_now(se_gzs *s)
{
    pool *pl = s->pl;
    pthread_mutex_lock(&pl->mu);
    int e = s->werr;
    pthread_mutex_unlock(&pl->mu);
    return e;
}

se_gzs *se_gzs_new(int spool_fd, se_gz_codec codec, int level)
{
    se_gzs *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->fd = spool_fd;
    s->codec = codec;
    s->level = level;
    if (codec == SE_GZC_DEFLATE && (level < 0 || level > 9))
        s->level = Z_DEFAULT_COMPRESSION;
    if (!(s->cur = buf_new())) {
        free(s);
        return NULL;
    }
    pthread_mutex_lock(&pool_mu);
    if (!the_pool && !(the_pool = pool_create())) {
        pthread_mutex_unlock(&pool_mu);
        buf_free(s->cur);
        free(s);
        return NULL;
    }
    the_pool->refs++;
    s->pl = the_pool;
    pthread_mutex_unlock(&pool_mu);
    return s;
}

void se_gzs_free(se_gzs *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->pl->mu);
    s->discard = true;
    pthread_mutex_unlock(&s->pl->mu);
    drain(s);
    buf_free(s->cur);
    free(s->comp);
    free(s);
    pthread_mutex_lock(&pool_mu);
    if (--the_pool->refs == 0) {
        pool_destroy(the_pool);
        the_pool = NULL;
    }
    pthread_mutex_unlock(&pool_mu);
}

static int fail(char *err, size_t errlen, int e)
{
    snprintf(err, errlen, "spool: %s", strerror(e));
    return -1;
}

static int add_end(gzbuf *b)
{
    if (b->nends == b->cap_ends) {
        size_t cap = b->cap_ends ? b->cap_ends * 2 : 16;
        size_t *e = realloc(b->ends, cap * sizeof *e);
        if (!e)
            return -1;
        b->ends = e;
        b->cap_ends = cap;
    }
    b->ends[b->nends++] = b->len;
    return 0;
}

int se_gzs_part(se_gzs *s, size_t part, char *err, size_t errlen)
{
    gzbuf *b = s->cur;

    /* End the current part's segment in this buffer, if it has bytes here. */
    if (s->have_part && b->len > (b->nends ? b->ends[b->nends - 1] : 0) && add_end(b) != 0)
        return fail(err, errlen, ENOMEM);
    s->part = part;
    s->have_part = true;
    return 0;
}

int se_gzs_write(se_gzs *s, const void *p, size_t n, char *err, size_t errlen)
{
    const char *q = p;
    int e;

    if ((e = werr_now(s)) != 0)
        return fail(err, errlen, e);
    while (n) {
        gzbuf *b = s->cur;
        if (b->len == SE_GZ_SEG) {
            submit(s);
            if ((e = werr_now(s)) != 0)
                return fail(err, errlen, e);
            b = s->cur;
        }
        if (b->len == 0)
            b->first_part = s->part;
        size_t take = SE_GZ_SEG - b->len < n ? SE_GZ_SEG - b->len : n;
        memcpy(b->data + b->len, q, take);
        b->len += take;
        q += take;
        n -= take;
    }
    return 0;
}

int se_gzs_put_deflated(se_gzs *s, size_t part, const void *p, size_t n, char *err, size_t errlen)
{
    int e;

    if (s->codec != SE_GZC_DEFLATE)
        return fail(err, errlen, EINVAL);
    /* The spool is appended in order: what is queued goes first. */
    if (s->cur->len)
        submit(s);
    if ((e = drain(s)) != 0)
        return fail(err, errlen, e);
    if (se_write_all(s->fd, (const char *)p, n) != 0)
        return fail(err, errlen, errno ? errno : EIO);
    if ((e = put_comp(s, part, n)) != 0)
        return fail(err, errlen, e);
    s->part = part;
    s->have_part = true;
    return 0;
}

int se_gzs_sync(se_gzs *s, size_t nparts, char *err, size_t errlen)
{
    int e;

    if (s->cur->len)
        submit(s);
    if ((e = drain(s)) != 0)
        return fail(err, errlen, e);
    for (size_t i = 0; i < nparts; i++) {
        if (i >= s->ncomp || s->comp[i] == 0) {
            snprintf(err, errlen, "spool: part %zu missing", i);
            return -1;
        }
    }
    return 0;
}

uint64_t se_gzs_comp(const se_gzs *s, size_t part)
{
    return part < s->ncomp ? s->comp[part] : 0;
}

int se_gzs_copy(se_gzs *s, uint64_t off, uint64_t n, int out_fd, int *spool_failed,
                char *err, size_t errlen)
{
    char buf[64 << 10];

    for (uint64_t done = 0; done < n;) {
        size_t k = n - done > sizeof buf ? sizeof buf : (size_t)(n - done);
        ssize_t r = pread(s->fd, buf, k, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            *spool_failed = 1;
            return fail(err, errlen, r == 0 ? EIO : errno);
        }
        if (se_write_all(out_fd, buf, (size_t)r) != 0) {
            snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
            return -1;
        }
        done += (uint64_t)r;
    }
    return 0;
}

/* ---- the archive ---- */

static void octal(unsigned char *f, size_t width, uint64_t v)
{
    /* width-1 digits and a space (libarchive's ustar layout for size/mtime)
     * or, when it does not fit, base-256. */
    uint64_t lim = (uint64_t)1 << (3 * (width - 1));
    if (v >= lim) {
        memset(f, 0, width);
        f[0] = 0x80;
        for (size_t i = width - 1; i > 0 && v; i--, v >>= 8)
            f[i] = (unsigned char)(v & 0xff);
        return;
    }
    for (size_t i = width - 1; i-- > 0; v >>= 3)
        f[i] = (unsigned char)('0' + (v & 7));
    f[width - 1] = ' ';
}

void se_tar_header(unsigned char h[512], const char *name, uint64_t size, int64_t mtime_s)
{
    unsigned sum = 0;

    memset(h, 0, 512);
    memcpy(h, name, strnlen(name, 100));
    memcpy(h + 100, "000644 ", 7);
    memcpy(h + 108, "000000 ", 7);
    memcpy(h + 116, "000000 ", 7);
    octal(h + 124, 12, size);
    octal(h + 136, 12, mtime_s < 0 ? 0 : (uint64_t)mtime_s);
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar\0" "00", 8);
    memcpy(h + 329, "000000 ", 7);
    memcpy(h + 337, "000000 ", 7);
    for (size_t i = 0; i < 512; i++)
        sum += h[i];
    for (int i = 6; i-- > 0; sum >>= 3)
        h[148 + i] = (unsigned char)('0' + (sum & 7));
    h[154] = '\0';
    h[155] = ' ';
}

typedef struct out_sink {
    int fd;
    int err;
} out_sink;

static int to_out(void *ud, const unsigned char *p, size_t n)
{
    out_sink *o = ud;
    if (se_write_all(o->fd, (const char *)p, n) != 0)
        return o->err = errno ? errno : EIO;
    return 0;
}

/* The uncompressed stream between the spooled parts is built in a small
 * buffer and deflated as its own segment. */
typedef struct glue {
    unsigned char *p;
    size_t len, cap;
} glue;

static int glue_put(glue *g, const void *p, size_t n)
{
    if (n > g->cap - g->len) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap - g->len < n)
            cap *= 2;
        unsigned char *q = realloc(g->p, cap);
        if (!q)
            return -1;
        g->p = q;
        g->cap = cap;
    }
    memcpy(g->p + g->len, p, n);
    g->len += n;
    return 0;
}

static int glue_zeros(glue *g, size_t n)
{
    static const unsigned char z[512];
    while (n) {
        size_t k = n > sizeof z ? sizeof z : n;
        if (glue_put(g, z, k) != 0)
            return -1;
        n -= k;
    }
    return 0;
}

static size_t pad512(uint64_t n)
{
    return (size_t)((512 - n % 512) % 512);
}

int se_gzs_write_archive(se_gzs *s, int out_fd, const char *mtext, size_t mlen,
                         const se_gz_part *parts, size_t nparts, int64_t mtime_s,
                         int *spool_failed, char *err, size_t errlen)
{
    unsigned char h[512], hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 }, trailer[8];
    out_sink o = { out_fd, 0 };
    glue g = { 0 };
    z_stream z;
    int zlevel = -1, e = 0, rc = -1;
    unsigned char *zout = malloc(SE_GZ_OUT);
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t total = 0, spool_off = 0;
    char name[32];
    bool gz = s->codec == SE_GZC_DEFLATE;
    ZSTD_CCtx *zc = NULL;
    membuf ztmp = { NULL, 0, 0 };
    lzma_stream xs = LZMA_STREAM_INIT;

    *spool_failed = 0;
    memset(&z, 0, sizeof z);
    if (!zout)
        goto nomem;
    if (se_gzs_sync(s, nparts, err, errlen) != 0) {
        *spool_failed = 1;
        goto out;
    }
    /* gzip header: no name, no time; XFL as gzip(1) and libarchive set it.
     * (zstd and xz: frames only, each one whole.) */
    hdr[8] = s->level == 9 ? 2 : s->level == 1 ? 4 : 0;
    if (gz && se_write_all(out_fd, (const char *)hdr, sizeof hdr) != 0)
        goto ioerr;

    se_tar_header(h, "manifest.json", mlen, mtime_s);
    if (glue_put(&g, h, 512) != 0 || glue_put(&g, mtext, mlen) != 0 || glue_zeros(&g, pad512(mlen)) != 0)
        goto nomem;
    for (size_t i = 0; i <= nparts; i++) {
        if (i < nparts) {
            snprintf(name, sizeof name, "part-%05zu.json", i);
            se_tar_header(h, name, parts[i].bytes, mtime_s);
            if (glue_put(&g, h, 512) != 0)
                goto nomem;
        } else if (glue_zeros(&g, 1024) != 0) {
            goto nomem;
        }
        /* The glue segment. */
        if (gz)
            e = se_gz_deflate_seg(&z, &zlevel, s->level, zout, SE_GZ_OUT, g.p, g.len, i == nparts, to_out, &o);
        else if (s->codec == SE_GZC_ZSTD)
            e = se_gz_zstd_seg(&zc, s->level, g.p, g.len, to_out, &o, &ztmp);
        else
            e = se_gz_xz_seg(&xs, s->level, g.p, g.len, to_out, &o, zout, SE_GZ_OUT);
        if (e)
            goto zerr;
        crc = crc32(crc, g.p, (uInt)g.len);
        total += g.len;
        g.len = 0;
        if (i == nparts)
            break;
        /* The part's spooled segments, as they are. */
        if (se_gzs_copy(s, spool_off, s->comp[i], out_fd, spool_failed, err, errlen) != 0)
            goto out;
        spool_off += s->comp[i];
        crc = crc32_combine(crc, parts[i].crc, (z_off_t)parts[i].bytes);
        total += parts[i].bytes;
        if (glue_zeros(&g, pad512(parts[i].bytes)) != 0)
            goto nomem;
    }
    for (int i = 0; i < 4; i++) {
        trailer[i] = (unsigned char)(crc >> (8 * i));
        trailer[4 + i] = (unsigned char)(total >> (8 * i));
    }
    if (gz && se_write_all(out_fd, (const char *)trailer, sizeof trailer) != 0)
        goto ioerr;
    rc = 0;
    goto out;

zerr:
    snprintf(err, errlen, "%s", strerror(o.err ? o.err : e));
    goto out;
ioerr:
    snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
    goto out;
nomem:
    snprintf(err, errlen, "%s", strerror(ENOMEM));
out:
    if (zlevel != -1)
        deflateEnd(&z);
    ZSTD_freeCCtx(zc);
    free(ztmp.p);
    lzma_end(&xs);
    free(g.p);
    free(zout);
    return rc;
}

/* The reader thread and its chunk queue (see pipeline.h). */
#include "pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input.h"

/* 128 KiB: a chunk and its tape (about 1.5 times as many bytes) stay in
 * the caches between prep and the caller; 1 MiB chunks cost a third more
 * CPU time on a selective job (docs/performance.md). */
enum { CHUNK_BYTES = 1 << 17, POOL = SE_PIPE_CHUNKS + 2 };

size_t se_pipe_chunk_bytes = CHUNK_BYTES;

/* A line is held whole in one chunk, whose offsets are 32 bits: longer lines
 * are too long whatever the limit. */
enum { LINE_MAX_BYTES = 1 << 30 };

struct se_pipe {
    se_input *in;
    size_t max;              /* max_record_bytes, at most LINE_MAX_BYTES */
    size_t chunk_bytes;
    se_prep_fn prep;
    se_drop_fn drop;
    void *ud;

    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;               /* the caller is done: the reader must end */
    bool reader_done;

    se_chunk *ring[SE_PIPE_CHUNKS];
    size_t head, count;      /* ring[head] is the oldest */
    se_chunk *free_[POOL];
    size_t nfree;
    se_chunk *held;          /* the caller's current chunk */
    se_chunk *all[POOL];     /* every chunk, for se_pipe_free */
    size_t nall;
    uint64_t bytes;
};

char *se_chunk_arena(se_chunk *ch, size_t n)
{
    if (n > ch->arena_cap - ch->arena_len) {
        size_t cap = ch->arena_cap ? ch->arena_cap : 65536;
        while (cap - ch->arena_len < n)
            cap *= 2;
        char *a = realloc(ch->arena, cap);
        if (!a)
            return NULL;
        ch->arena = a;
        ch->arena_cap = cap;
    }
    char *r = ch->arena + ch->arena_len;
    ch->arena_len += n;
    return r;
}

static void chunk_reset(se_pipe *p, se_chunk *ch)
{
    if (p->drop)
        p->drop(p->ud, ch, false);
    free(ch->name);
    ch->name = NULL;
    ch->status = 1;
    ch->data_len = ch->nlines = ch->arena_len = 0;
    ch->err[0] = '\0';
    ch->prepared = 0;
}

static void chunk_free(se_pipe *p, se_chunk *ch)
{
    if (!ch)
        return;
    if (p->drop)
        p->drop(p->ud, ch, true);
    free(ch->name);
    free(ch->data);
    free(ch->lines);
    free(ch->arena);
    free(ch);
}

/* Runs prep on ch (claimed: prepared == 1) without the lock. */
static void do_prep(se_pipe *p, se_chunk *ch)
{
    pthread_mutex_unlock(&p->mu);
    if (ch->status == 1 && p->prep(p->ud, ch) != 0) {
        ch->status = -1;
        snprintf(ch->err, sizeof ch->err, "out of memory");
    }
    pthread_mutex_lock(&p->mu);
    ch->prepared = 2;
    pthread_cond_broadcast(&p->cv);
}

/* Reader side, lock held: a free chunk, or NULL when told to stop.  While it
 * waits it prepares queued chunks, newest first (the caller takes the oldest). */
static se_chunk *get_free(se_pipe *p)
{
    for (;;) {
        if (p->stop)
            return NULL;
        if (p->nfree > 0)
            return p->free_[--p->nfree];
        if (p->nall < POOL) {
            se_chunk *ch = calloc(1, sizeof *ch);
            if (!ch)
                return NULL;
            p->all[p->nall++] = ch;
            return ch;
        }
        bool helped = false;
        for (size_t i = p->count; i-- > 0;) {
            se_chunk *ch = p->ring[(p->head + i) % SE_PIPE_CHUNKS];
            if (ch->prepared == 0) {
                ch->prepared = 1;
                do_prep(p, ch);
                helped = true;
                break;
            }
        }
        if (!helped)
            pthread_cond_wait(&p->cv, &p->mu);
    }
}

/* Lock held.  Queues ch (waiting for room, preparing meanwhile). */
static bool push(se_pipe *p, se_chunk *ch)
{
    while (p->count == SE_PIPE_CHUNKS && !p->stop) {
        bool helped = false;
        for (size_t i = p->count; i-- > 0;) {
            se_chunk *q = p->ring[(p->head + i) % SE_PIPE_CHUNKS];
            if (q->prepared == 0) {
                q->prepared = 1;
                do_prep(p, q);
                helped = true;
                break;
            }
        }
        if (!helped)
            pthread_cond_wait(&p->cv, &p->mu);
    }
    if (p->stop)
        return false;
    if (ch->status != 1)
        ch->prepared = 2;
    p->ring[(p->head + p->count) % SE_PIPE_CHUNKS] = ch;
    p->count++;
    p->bytes = ch->in_pos = se_input_bytes(p->in);
    pthread_cond_broadcast(&p->cv);
    return true;
}

/* ---- the reader: bytes into chunks, cut into lines ----------------------- */

/* The reader lays bytes in a chunk at the alignment they have in the stream
 * (mod DATA_ALIGN): the kernel's copy from the page cache into a buffer at
 * another alignment was half as fast (rep movsb, measured). */
enum { DATA_ALIGN = 64 };

/* Grows ch->data to cap bytes, keeping its first keep bytes. */
static bool data_room(se_chunk *ch, size_t cap, size_t keep)
{
    if (ch->data_cap >= cap)
        return true;
    void *d;
    if (posix_memalign(&d, DATA_ALIGN, cap) != 0)
        return false;
    if (keep)
        memcpy(d, ch->data, keep);
    free(ch->data);
    ch->data = d;
    ch->data_cap = cap;
    return true;
}

static __attribute__((noinline)) bool grow_lines(se_chunk *ch)
{
    size_t cap = ch->cap_lines ? ch->cap_lines * 2 : 1024;
    se_pline *l = realloc(ch->lines, cap * sizeof *l);
    if (!l)
        return false;
    ch->lines = l;
    ch->cap_lines = cap;
    return true;
}

static inline se_pline *new_line(se_chunk *ch)
{
    if (ch->nlines == ch->cap_lines && !grow_lines(ch))
        return NULL;
    return &ch->lines[ch->nlines++];
}

/* One physical line, ch->data[s, e), by the line rules (input.h). */
static inline bool cut_line(se_chunk *ch, size_t s, size_t e, uint64_t lineno, size_t max)
{
    const char *d = ch->data + s;
    size_t n = e - s;
    int k = se_line_trim(&d, &n, lineno, max);
    if (k == 0)
        return true;
    se_pline *pl = new_line(ch);
    if (!pl)
        return false;
    *pl = (se_pline){ .lineno = lineno, .too_long = k == 2 };
    if (k == 1) {
        pl->off = (uint32_t)(d - ch->data);
        pl->len = (uint32_t)n;
    }
    return true;
}

static bool stopped(se_pipe *p)
{
    return __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
}

/* Queues ch and returns the next chunk to fill (reset, with a data buffer
 * named name), or NULL: told to stop (*oom false) or out of memory. */
static se_chunk *hand_over(se_pipe *p, se_chunk *ch, const char *name, bool *oom)
{
    pthread_mutex_lock(&p->mu);
    se_chunk *nx = push(p, ch) ? get_free(p) : NULL;
    pthread_mutex_unlock(&p->mu);
    *oom = false;
    if (!nx)
        return NULL;
    chunk_reset(p, nx);
    if (!data_room(nx, p->chunk_bytes, 0) || (name && !(nx->name = strdup(name)))) {
        *oom = true;
        return nx;
    }
    return nx;
}

/* Reads the INPUTs straight into chunk buffers (se_input_read) and cuts the
 * lines where they lie: a line's bytes are copied at most once, when it
 * straddles two chunks (its start moves to the next one).  A chunk is handed
 * over when its buffer is full; one longer line grows it. */
static void *reader(void *arg)
{
    se_pipe *p = arg;
    se_chunk *ch = NULL;
    size_t len = 0, ls = 0;  /* ch->data: bytes held, start of the unfinished line */
    size_t lim = p->chunk_bytes; /* ch->data's bytes to fill: more for one long line */
    uint64_t lineno = 1;     /* the unfinished line's number */
    uint64_t spos = 0;       /* the stream's bytes read */
    bool skipping = false;   /* inside a too-long line, up to its LF */
    bool oom = false;
    int r, old;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_mutex_lock(&p->mu);
    ch = get_free(p);
    pthread_mutex_unlock(&p->mu);
    if (!ch)
        goto out;
    chunk_reset(p, ch);
    if (!data_room(ch, p->chunk_bytes, 0))
        goto fail_oom;
    for (;;) {
        /* Only a blocking read may be interrupted when the caller stops early
         * (e.g. a cancelled job reading a quiet FIFO): se_input_stream and
         * se_input_read enable cancellation around their reads and opens.
         * Told to stop: end here, between two reads, rather than be
         * cancelled inside libarchive or zlib (a thread cancelled there
         * unwinds without its frames being cleaned up, which ASan reports as
         * a stack overflow when the thread exits). */
        r = se_input_stream(p->in);
        if (stopped(p))
            goto out;
        if (r <= 0)
            break;
        /* One name a chunk: ch holds no line here. */
        free(ch->name);
        if (!(ch->name = strdup(se_input_name(p->in))))
            goto fail_oom;
        len = ls = 0;
        lim = p->chunk_bytes;
        lineno = 1;
        spos = 0;
        skipping = false;
        for (;;) {
            if (len == lim) {
                /* Full.  The unfinished line moves to the front (at its
                 * stream alignment q), of the next chunk when this one holds
                 * lines, else of this one, grown when that gains nothing. */
                size_t part = len - ls, q = (size_t)((spos - part) % DATA_ALIGN);
                if (ch->nlines > 0) {
                    /* Only the reader writes a chunk's data, so ch's stay put
                     * while the caller has it; the next chunk may be ch
                     * itself, already taken and given back (data_room then
                     * keeps its bytes). */
                    ch->data_len = ls;
                    se_chunk *nx = hand_over(p, ch, se_input_name(p->in), &oom);
                    if (!nx)
                        goto out_lost;
                    lim = q + part > p->chunk_bytes / 2 ? 2 * (q + part) : p->chunk_bytes;
                    if (oom || !data_room(nx, lim, nx == ch ? len : 0)) {
                        ch = nx;
                        goto fail_oom;
                    }
                    memmove(nx->data + q, (nx == ch ? nx->data : ch->data) + ls, part);
                    ch = nx;
                } else {
                    if ((ls == q || q + part >= lim) && !data_room(ch, lim *= 2, len))
                        goto fail_oom; /* one line, held whole: at most 2 x its limit */
                    if (ls != q)
                        memmove(ch->data + q, ch->data + ls, part);
                }
                ls = q;
                len = q + part;
            }
            ssize_t n = se_input_read(p->in, ch->data + len, lim - len);
            if (stopped(p))
                goto out;
            if (n < 0) {
                r = -1;
                break;
            }
            if (n == 0) {
                /* A last line without LF still counts. */
                if (len > ls && !skipping && !cut_line(ch, ls, len, lineno, p->max))
                    goto fail_oom;
                break;
            }
            size_t at = len;
            len += (size_t)n;
            spos += (uint64_t)n;
            const char *nl;
            while ((nl = memchr(ch->data + at, '\n', len - at))) {
                size_t e = (size_t)(nl - ch->data);
                if (skipping)
                    skipping = false;
                else if (!cut_line(ch, ls, e, lineno, p->max))
                    goto fail_oom;
                lineno++;
                ls = at = e + 1;
            }
            if (!skipping && len - ls > se_line_hold(lineno, p->max)) {
                /* Too long already: said now, its bytes up to the LF dropped. */
                se_pline *pl = new_line(ch);
                if (!pl)
                    goto fail_oom;
                *pl = (se_pline){ .lineno = lineno, .too_long = true };
                skipping = true;
            }
            if (skipping)
                len = ls;
        }
        if (r < 0)
            break;
        /* The stream's end: the next one has another name. */
        if (ch->nlines > 0) {
            ch->data_len = len;
            se_chunk *nx = hand_over(p, ch, NULL, &oom);
            if (!nx)
                goto out_lost;
            ch = nx;
            if (oom)
                goto fail_oom;
        }
    }
    /* The end of the input (r == 0) or a read error (r < 0), after the
     * lines before it. */
    if (ch->nlines > 0) {
        ch->data_len = len;
        se_chunk *nx = hand_over(p, ch, NULL, &oom);
        if (!nx)
            goto out_lost;
        ch = nx;
    }
    chunk_reset(p, ch);
    ch->status = r;
    if (r < 0)
        snprintf(ch->err, sizeof ch->err, "%s", se_input_error(p->in));
    pthread_mutex_lock(&p->mu);
    push(p, ch);
    pthread_mutex_unlock(&p->mu);
    ch = NULL;
    goto out;
fail_oom:
    chunk_reset(p, ch);
    ch->status = -1;
    snprintf(ch->err, sizeof ch->err, "out of memory");
    pthread_mutex_lock(&p->mu);
    push(p, ch);
    pthread_mutex_unlock(&p->mu);
out_lost:
    ch = NULL; /* queued, or none to be had */
out:
    pthread_mutex_lock(&p->mu);
    if (ch)
        p->free_[p->nfree++] = ch;
    p->reader_done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

se_pipe *se_pipe_start(char *const *paths, size_t n, size_t max_record_bytes,
                       se_prep_fn prep, se_drop_fn drop, void *ud)
{
    se_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->max = max_record_bytes < LINE_MAX_BYTES ? max_record_bytes : LINE_MAX_BYTES;
    p->chunk_bytes = se_pipe_chunk_bytes > 0 ? se_pipe_chunk_bytes : CHUNK_BYTES;
    p->prep = prep;
    p->drop = drop;
    p->ud = ud;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (!(p->in = se_input_open(paths, n, max_record_bytes)) ||
        pthread_create(&p->th, NULL, reader, p) != 0) {
        se_pipe_free(p);
        return NULL;
    }
    p->started = true;
    return p;
}

se_chunk *se_pipe_next(se_pipe *p)
{
    se_chunk *ch;

    pthread_mutex_lock(&p->mu);
    if (p->held) {
        p->free_[p->nfree++] = p->held;
        p->held = NULL;
        pthread_cond_broadcast(&p->cv);
    }
    while (p->count == 0) {
        if (p->reader_done) {
            /* Only when the reader ran out of memory before it could say so. */
            static se_chunk oom = { .status = -1, .err = "out of memory" };
            pthread_mutex_unlock(&p->mu);
            return &oom;
        }
        pthread_cond_wait(&p->cv, &p->mu);
    }
    ch = p->ring[p->head];
    p->head = (p->head + 1) % SE_PIPE_CHUNKS;
    p->count--;
    pthread_cond_broadcast(&p->cv);
    if (ch->prepared == 0) {
        ch->prepared = 1;
        do_prep(p, ch);
    }
    while (ch->prepared != 2)
        pthread_cond_wait(&p->cv, &p->mu);
    p->held = ch;
    pthread_mutex_unlock(&p->mu);
    return ch;
}

uint64_t se_pipe_bytes(se_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t b = p->bytes;
    pthread_mutex_unlock(&p->mu);
    return b;
}

void se_pipe_free(se_pipe *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        __atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&p->cv);
        /* The reader notices within a line; only one blocked in a read that
         * does not return (a quiet FIFO) is cancelled, after a second. */
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 1;
        while (!p->reader_done && pthread_cond_timedwait(&p->cv, &p->mu, &dl) == 0)
            ;
        bool done = p->reader_done;
        pthread_mutex_unlock(&p->mu);
        if (!done)
            pthread_cancel(p->th);
        pthread_join(p->th, NULL);
    }
    for (size_t i = 0; i < p->nall; i++)
        chunk_free(p, p->all[i]);
    se_input_free(p->in);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

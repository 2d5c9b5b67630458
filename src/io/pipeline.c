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

struct se_pipe {
    se_input *in;
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

static bool add_line(se_chunk *ch, const se_line *ln)
{
    if (ln->len > ch->data_cap - ch->data_len) {
        size_t cap = ch->data_cap ? ch->data_cap : CHUNK_BYTES;
        while (cap - ch->data_len < ln->len)
            cap *= 2;
        char *d = realloc(ch->data, cap);
        if (!d)
            return false;
        ch->data = d;
        ch->data_cap = cap;
    }
    if (ch->nlines == ch->cap_lines) {
        size_t cap = ch->cap_lines ? ch->cap_lines * 2 : 1024;
        se_pline *l = realloc(ch->lines, cap * sizeof *l);
        if (!l)
            return false;
        ch->lines = l;
        ch->cap_lines = cap;
    }
    if (!ch->name && !(ch->name = strdup(ln->name)))
        return false;
    se_pline *pl = &ch->lines[ch->nlines++];
    memset(pl, 0, sizeof *pl);
    pl->off = (uint32_t)ch->data_len;
    pl->len = (uint32_t)ln->len;
    pl->lineno = ln->lineno;
    pl->too_long = ln->too_long;
    if (ln->len > 0) /* a too-long line has none (and data may still be NULL) */
        memcpy(ch->data + ch->data_len, ln->data, ln->len);
    ch->data_len += ln->len;
    return true;
}

static void *reader(void *arg)
{
    se_pipe *p = arg;
    se_chunk *ch = NULL;
    se_line ln;
    int r, old;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_mutex_lock(&p->mu);
    ch = get_free(p);
    pthread_mutex_unlock(&p->mu);
    if (!ch)
        goto out;
    chunk_reset(p, ch);
    for (;;) {
        /* Only a blocking read may be interrupted when the caller stops early
         * (e.g. a cancelled job reading a quiet FIFO): se_input_next enables
         * cancellation around its reads and opens. */
        r = se_input_next(p->in, &ln);
        /* Told to stop: end here, between two lines, rather than be cancelled
         * inside libarchive or zlib (a thread cancelled there unwinds without
         * its frames being cleaned up, which ASan reports as a stack overflow
         * when the thread exits). */
        if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
            goto out;
        bool full = r > 0 && ch->nlines > 0 &&
                    (ch->data_len + ln.len > CHUNK_BYTES || ln.len > UINT32_MAX - ch->data_len ||
                     strcmp(ch->name, ln.name) != 0);
        if (r <= 0 || full) {
            bool ok = true;
            pthread_mutex_lock(&p->mu);
            if (ch->nlines > 0) {
                ok = push(p, ch);
                ch = ok ? get_free(p) : NULL;
            }
            pthread_mutex_unlock(&p->mu);
            if (!ok || !ch)
                goto out;
            chunk_reset(p, ch);
            if (r <= 0) {
                ch->status = r;
                if (r < 0)
                    snprintf(ch->err, sizeof ch->err, "%s", se_input_error(p->in));
                pthread_mutex_lock(&p->mu);
                if (!push(p, ch))
                    ch = NULL;
                pthread_mutex_unlock(&p->mu);
                ch = NULL;
                goto out;
            }
        }
        if (!add_line(ch, &ln)) {
            chunk_reset(p, ch);
            ch->status = -1;
            snprintf(ch->err, sizeof ch->err, "out of memory");
            pthread_mutex_lock(&p->mu);
            push(p, ch);
            pthread_mutex_unlock(&p->mu);
            ch = NULL;
            goto out;
        }
    }
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

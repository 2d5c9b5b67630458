/* gzip on several cores: see pgzip.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "fsutil.h"
#include "pgzip.h"

#define BLOCK (1u << 20)

typedef struct slot {
    unsigned char *in, *out;
    size_t in_len, out_len, out_cap;
    int level, err;
} slot;

struct se_pgz {
    int fd, level, nslots, failed;
    size_t cur;        /* the slot being filled */
    size_t members;    /* written so far */
    slot *s;
};

se_pgz *se_pgz_new(int fd, int level, int threads)
{
    se_pgz *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->fd = fd;
    z->level = level;
    z->nslots = threads < 1 ? 1 : threads > 16 ? 16 : threads;
    if (!(z->s = calloc((size_t)z->nslots, sizeof *z->s)))
        goto oom;
    for (int i = 0; i < z->nslots; i++) {
        z->s[i].level = level;
        if (!(z->s[i].in = malloc(BLOCK)))
            goto oom;
    }
    return z;
oom:
    se_pgz_free(z);
    errno = ENOMEM;
    return NULL;
}

/* One block into one gzip member (zlib's header: no name, time 0). */
static void *compress_slot(void *arg)
{
    slot *s = arg;
    z_stream zs;

    memset(&zs, 0, sizeof zs);
    s->err = 0;
    if (deflateInit2(&zs, s->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        s->err = ENOMEM;
        return NULL;
    }
    size_t need = deflateBound(&zs, (uLong)s->in_len);
    if (need > s->out_cap) {
        unsigned char *o = realloc(s->out, need);
        if (!o) {
            deflateEnd(&zs);
            s->err = ENOMEM;
            return NULL;
        }
        s->out = o;
        s->out_cap = need;
    }
    zs.next_in = s->in;
    zs.avail_in = (uInt)s->in_len;
    zs.next_out = s->out;
    zs.avail_out = (uInt)s->out_cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        s->err = EIO;
    s->out_len = s->out_cap - zs.avail_out;
    deflateEnd(&zs);
    return NULL;
}

/* Compresses slots 0..n-1 (n-1 of them on threads, one here) and writes them in order. */
static int flush(se_pgz *z, size_t n)
{
    pthread_t th[16];
    bool started[16] = { false };

    for (size_t i = 1; i < n; i++)
        started[i] = pthread_create(&th[i], NULL, compress_slot, &z->s[i]) == 0;
    compress_slot(&z->s[0]);
    for (size_t i = 1; i < n; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            compress_slot(&z->s[i]); /* no thread to be had: here, then */
    }
    for (size_t i = 0; i < n; i++) {
        if (z->s[i].err) {
            errno = z->s[i].err;
            return -1;
        }
        if (se_write_all(z->fd, (const char *)z->s[i].out, z->s[i].out_len) != 0)
            return -1;
        z->s[i].in_len = 0;
        z->members++;
    }
    z->cur = 0;
    return 0;
}

int se_pgz_write(se_pgz *z, const void *p, size_t n)
{
    const unsigned char *c = p;

    if (z->failed) {
        errno = z->failed;
        return -1;
    }
    while (n > 0) {
        slot *s = &z->s[z->cur];
        size_t k = BLOCK - s->in_len < n ? BLOCK - s->in_len : n;
        memcpy(s->in + s->in_len, c, k);
        s->in_len += k;
        c += k;
        n -= k;
        if (s->in_len == BLOCK && ++z->cur == (size_t)z->nslots && flush(z, z->cur) != 0) {
            z->failed = errno ? errno : EIO;
            return -1;
        }
    }
    return 0;
}

int se_pgz_finish(se_pgz *z)
{
    if (z->failed) {
        errno = z->failed;
        return -1;
    }
    size_t n = z->cur + (z->s[z->cur].in_len > 0);
    if (n == 0 && z->members == 0)
        n = 1; /* nothing at all: one empty member, still a gzip file */
    if (n > 0 && flush(z, n) != 0) {
        z->failed = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

void se_pgz_free(se_pgz *z)
{
    if (!z)
        return;
    for (int i = 0; z->s && i < z->nslots; i++) {
        free(z->s[i].in);
        free(z->s[i].out);
    }
    free(z->s);
    free(z);
}

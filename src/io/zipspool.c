/* zip batches from a gzspool stream (see zipspool.h): each zip entry is its
 * own raw deflate stream, so a part's spooled segments (each ending with a
 * sync flush) followed by an empty final block (the two bytes 03 00) are the
 * entry's data as they are.  The manifest is deflated on the spot.  Sizes and
 * CRCs are known when the archive is assembled, so local headers carry them
 * (no data descriptors).  Entries carry what libarchive's zip writer gives
 * them: version 2.0, made on Unix, mode 0644, uid/gid 0 ("ux" field), the
 * mtime in an "UT" field and as an MS-DOS time in UTC.  Zip64 fields (version
 * 4.5) only where a size, an offset or the entry count needs them. */
#include "zipspool.h"
#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

int se_zip_force64; /* tests: zip64 fields on every entry */

#define U32MAX 0xffffffffu

typedef struct zbuf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} zbuf;

static void put(zbuf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap - b->len < n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void le16(zbuf *b, unsigned v)
{
    unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
    put(b, c, 2);
}

static void le32(zbuf *b, uint32_t v)
{
    unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24) };
    put(b, c, 4);
}

static void le64(zbuf *b, uint64_t v)
{
    le32(b, (uint32_t)v);
    le32(b, (uint32_t)(v >> 32));
}

typedef struct entry {
    char name[32];
    uint64_t usize, csize, off;
    uint32_t crc;
} entry;

static void dos_time(int64_t t, unsigned *dtime, unsigned *ddate)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (t < 315532800 || !gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 2107) {
        *dtime = 0;
        *ddate = (0 << 9) | (1 << 5) | 1; /* 1980-01-01 */
        return;
    }
    *dtime = (unsigned)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
    *ddate = (unsigned)((tm.tm_year + 1900 - 1980) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

/* The UT and ux extra fields (local and central alike). */
static void std_extra(zbuf *b, int64_t mtime)
{
    le16(b, 0x5455);
    le16(b, 5);
    put(b, "\1", 1);
    le32(b, (uint32_t)mtime);
    le16(b, 0x7875);
    le16(b, 11);
    put(b, "\1\4\0\0\0\0\4\0\0\0\0", 11);
}

static void header(zbuf *b, const entry *e, int central, int64_t mtime)
{
    unsigned dtime, ddate;
    int big_sizes = se_zip_force64 || e->usize >= U32MAX || e->csize >= U32MAX;
    int big_off = central && (se_zip_force64 || e->off >= U32MAX);
    size_t nlen = strlen(e->name);
    unsigned z64len = (big_sizes ? 16u : 0u) + (big_off ? 8u : 0u);
    unsigned version = big_sizes || big_off ? 45 : 20;

    dos_time(mtime, &dtime, &ddate);
    le32(b, central ? 0x02014b50u : 0x04034b50u);
    if (central)
        le16(b, 3u << 8 | version); /* made on Unix */
    le16(b, version);
    le16(b, 0);  /* flags */
    le16(b, 8);  /* deflate */
    le16(b, dtime);
    le16(b, ddate);
    le32(b, e->crc);
    le32(b, big_sizes ? U32MAX : (uint32_t)e->csize);
    le32(b, big_sizes ? U32MAX : (uint32_t)e->usize);
    le16(b, (unsigned)nlen);
    le16(b, 24 + (z64len ? 4 + z64len : 0));
    if (central) {
        le16(b, 0);                  /* comment */
        le16(b, 0);                  /* disk */
        le16(b, 0);                  /* internal attributes */
        le32(b, 0100644u << 16);     /* external: a regular file, 0644 */
        le32(b, big_off ? U32MAX : (uint32_t)e->off);
    }
    put(b, e->name, nlen);
    std_extra(b, mtime);
    if (z64len) {
        le16(b, 0x0001);
        le16(b, z64len);
        if (big_sizes) {
            le64(b, e->usize);
            le64(b, e->csize);
        }
        if (big_off)
            le64(b, e->off);
    }
}

/* Raw deflate of the whole of p (the manifest). */
static unsigned char *deflate_all(const char *p, size_t n, int level, size_t *outlen)
{
    z_stream z;
    unsigned char *out;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)n);
    if (!(out = malloc(cap))) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(out);
        return NULL;
    }
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static int flush(zbuf *b, int fd, char *err, size_t errlen)
{
    if (b->oom) {
        snprintf(err, errlen, "%s", strerror(ENOMEM));
        return -1;
    }
    if (b->len && se_write_all(fd, (const char *)b->p, b->len) != 0) {
        snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
        return -1;
    }
    b->len = 0;
    return 0;
}

int se_zip_write_archive(se_gzs *s, int level, int out_fd, const char *mtext, size_t mlen,
                         const se_gz_part *parts, size_t nparts, int64_t mtime_s,
                         int *spool_failed, char *err, size_t errlen)
{
    static const unsigned char final_block[2] = { 0x03, 0x00 };
    entry *es = calloc(nparts + 1, sizeof *es);
    unsigned char *mz = NULL;
    size_t mzlen = 0;
    zbuf b = { 0 };
    uint64_t off = 0, spool_off = 0;
    int rc = -1;

    *spool_failed = 0;
    if (!es || !(mz = deflate_all(mtext, mlen, level, &mzlen))) {
        snprintf(err, errlen, "%s", strerror(ENOMEM));
        goto out;
    }
    if (se_gzs_sync(s, nparts, err, errlen) != 0) {
        *spool_failed = 1;
        goto out;
    }
    snprintf(es[0].name, sizeof es[0].name, "manifest.json");
    es[0].usize = mlen;
    es[0].csize = mzlen;
    es[0].crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)mtext, (uInt)mlen);
    for (size_t i = 0; i < nparts; i++) {
        snprintf(es[i + 1].name, sizeof es[i + 1].name, "part-%05zu.json", i);
        es[i + 1].usize = parts[i].bytes;
        es[i + 1].csize = se_gzs_comp(s, i) + sizeof final_block;
        es[i + 1].crc = parts[i].crc;
    }
    for (size_t i = 0; i <= nparts; i++) {
        es[i].off = off;
        header(&b, &es[i], 0, mtime_s);
        off += b.len + es[i].csize;
        if (i == 0) {
            put(&b, mz, mzlen);
            if (flush(&b, out_fd, err, errlen) != 0)
                goto out;
            continue;
        }
        if (flush(&b, out_fd, err, errlen) != 0 ||
            se_gzs_copy(s, spool_off, es[i].csize - sizeof final_block, out_fd, spool_failed, err, errlen) != 0)
            goto out;
        spool_off += es[i].csize - sizeof final_block;
        put(&b, final_block, sizeof final_block);
        if (flush(&b, out_fd, err, errlen) != 0)
            goto out;
    }
    /* The central directory and its end. */
    uint64_t cd_off = off, n = nparts + 1, cd_size = 0;
    for (size_t i = 0; i <= nparts; i++) {
        header(&b, &es[i], 1, mtime_s);
        if (b.len >= (64u << 10) || i == nparts) {
            cd_size += b.len;
            if (flush(&b, out_fd, err, errlen) != 0)
                goto out;
        }
    }
    if (se_zip_force64 || n >= 0xffff || cd_off >= U32MAX || cd_size >= U32MAX) {
        uint64_t z64 = cd_off + cd_size;
        le32(&b, 0x06064b50u);           /* zip64 end of central directory */
        le64(&b, 44);
        le16(&b, 3u << 8 | 45);
        le16(&b, 45);
        le32(&b, 0);
        le32(&b, 0);
        le64(&b, n);
        le64(&b, n);
        le64(&b, cd_size);
        le64(&b, cd_off);
        le32(&b, 0x07064b50u);           /* its locator */
        le32(&b, 0);
        le64(&b, z64);
        le32(&b, 1);
    }
    le32(&b, 0x06054b50u);
    le16(&b, 0);
    le16(&b, 0);
    le16(&b, n >= 0xffff ? 0xffff : (unsigned)n);
    le16(&b, n >= 0xffff ? 0xffff : (unsigned)n);
    le32(&b, cd_size >= U32MAX ? U32MAX : (uint32_t)cd_size);
    le32(&b, se_zip_force64 || cd_off >= U32MAX ? U32MAX : (uint32_t)cd_off);
    le16(&b, 0);
    if (flush(&b, out_fd, err, errlen) != 0)
        goto out;
    rc = 0;
out:
    free(b.p);
    free(mz);
    free(es);
    return rc;
}

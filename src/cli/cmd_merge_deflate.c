/* Recompression for merge, on the scan threads: a shard archive whose parts
 * cannot be copied through (tar, tar.zst, tar.xz, another writer's gzip, or
 * --level given) but goes into a tar.gz or zip is read through libarchive
 * and each part deflated here, the way gzspool does it - independent
 * segments of at most SE_GZ_SEG bytes, each from a reset state and ending
 * with a sync flush - into an unlinked temporary file in the dataset
 * directory.  The parts are then copied in like scanned ones
 * (se_batch_add_deflated), so every core deflates (one archive per thread)
 * while the writer only copies.  Segments are cut at fixed offsets from each
 * part's start: the bytes do not depend on the threads.
 *
 * The archive is checked as the row path checks it (manifest first, each
 * part's name, rows, CRC-32); whatever is wrong or unexpected (a part longer
 * than --rows-per-file: it must be re-cut) gives MG_SCAN_ROWS, and the row
 * path then reads it and says what is wrong. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include "cmd_merge.h"
#include "fsutil.h"
#include "gzspool.h"

#define READ_CHUNK (64u << 10)
#define MANIFEST_MAX (64u << 20)

typedef struct deflater {
    z_stream z;
    bool zinit;
    int fd;
    uint64_t off;                /* bytes written to fd */
    unsigned char *seg, *out;    /* SE_GZ_SEG in, deflateBound out */
    size_t seglen, outcap;
} deflater;

/* Deflates the pending segment into the file. */
static int seg_flush(deflater *d)
{
    if (!d->seglen)
        return 0;
    if (deflateReset(&d->z) != Z_OK)
        return -1;
    d->z.next_in = d->seg;
    d->z.avail_in = (uInt)d->seglen;
    d->z.next_out = d->out;
    d->z.avail_out = (uInt)d->outcap;
    if (deflate(&d->z, Z_SYNC_FLUSH) != Z_OK || d->z.avail_in || !d->z.avail_out)
        return -1;
    size_t n = d->outcap - d->z.avail_out;
    if (se_write_all(d->fd, (const char *)d->out, n) != 0)
        return -1;
    d->off += n;
    d->seglen = 0;
    return 0;
}

static int seg_put(deflater *d, const unsigned char *p, size_t n)
{
    while (n) {
        size_t k = SE_GZ_SEG - d->seglen < n ? SE_GZ_SEG - d->seglen : n;
        memcpy(d->seg + d->seglen, p, k);
        d->seglen += k;
        p += k;
        n -= k;
        if (d->seglen == SE_GZ_SEG && seg_flush(d))
            return -1;
    }
    return 0;
}

/* The manifest's parts (bytes, records, crc); -1 when it is not what the
 * batch's manifest must be, or a part must be re-cut. */
static int manifest_parts(mg_scan *sc, const char *text, mg_part **parts, size_t *n)
{
    json_object *man = json_tokener_parse(text), *files = mg_get(man, "files");
    int rc = -1;

    if (!json_object_is_type(files, json_type_array) || strcmp(mg_str(man, "batchId"), sc->batch_id))
        goto out;
    *n = json_object_array_length(files);
    if (!(*parts = calloc(*n ? *n : 1, sizeof **parts)))
        goto out;
    for (size_t i = 0; i < *n; i++) {
        json_object *f = json_object_array_get_idx(files, i);
        char *end;
        const char *crc = mg_str(f, "crc32");
        int64_t rec = json_object_get_int64(mg_get(f, "records"));
        unsigned long c = strtoul(crc, &end, 16);
        if (rec < 1 || (uint64_t)rec > sc->rpf || strlen(crc) != 8 || *end)
            goto out;
        (*parts)[i] = (mg_part){ 0, 0, (uint64_t)json_object_get_int64(mg_get(f, "bytes")),
                                 (uint64_t)rec, (uint32_t)c };
    }
    rc = 0;
out:
    json_object_put(man);
    return rc;
}

static bool stopped(const mg_scan *sc)
{
    return (sc->cancel && *sc->cancel) || (sc->stop && *sc->stop);
}

static int rebuild(mg_scan *sc, deflater *d, mg_part **parts, size_t *nparts)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    unsigned char *buf = malloc(READ_CHUNK);
    char *mtext = NULL;
    size_t mlen = 0, k = 0;
    int r, rc = -1;

    if (!a || !buf)
        goto out;
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, sc->path, READ_CHUNK) != ARCHIVE_OK)
        goto out;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK && !stopped(sc)) {
        const char *name = archive_entry_pathname(e);
        la_ssize_t got;
        char want[32];

        if (!mtext) {
            if (strcmp(name, "manifest.json"))
                goto out;
            while ((got = archive_read_data(a, buf, READ_CHUNK)) > 0) {
                char *nm = mlen + (size_t)got > MANIFEST_MAX ? NULL : realloc(mtext, mlen + (size_t)got + 1);
                if (!nm)
                    goto out;
                mtext = nm;
                memcpy(mtext + mlen, buf, (size_t)got);
                mlen += (size_t)got;
            }
            if (got < 0 || !mtext)
                goto out;
            mtext[mlen] = '\0';
            if (manifest_parts(sc, mtext, parts, nparts))
                goto out;
            continue;
        }
        snprintf(want, sizeof want, "part-%05zu.json", k);
        if (k >= *nparts || strcmp(name, want))
            goto out;
        mg_part *pt = &(*parts)[k++];
        uLong crc = crc32(0L, Z_NULL, 0);
        uint64_t bytes = 0, nl = 0;
        unsigned char last = 0;
        pt->off = d->off;
        while ((got = archive_read_data(a, buf, READ_CHUNK)) > 0 && !stopped(sc)) {
            const unsigned char *p = buf, *end = buf + got;
            crc = crc32(crc, buf, (uInt)got);
            while ((p = memchr(p, '\n', (size_t)(end - p)))) {
                nl++;
                p++;
            }
            bytes += (uint64_t)got;
            last = buf[got - 1];
            if (seg_put(d, buf, (size_t)got))
                goto out;
        }
        if (got < 0 || seg_flush(d) || bytes != pt->bytes || nl != pt->records || last != '\n' ||
            (uint32_t)crc != pt->crc)
            goto out;
        pt->clen = d->off - pt->off;
    }
    rc = r == ARCHIVE_EOF && mtext && k == *nparts ? 0 : -1;
out:
    if (a)
        archive_read_free(a);
    free(buf);
    free(mtext);
    return rc;
}

void mg_scan_deflate(mg_scan *sc)
{
    deflater d = { .fd = -1 };
    mg_part *parts = NULL;
    size_t nparts = 0;
    char *tmp = NULL;
    int rc = -1;

    sc->status = MG_SCAN_ROWS;
    memset(&d.z, 0, sizeof d.z);
    if (asprintf(&tmp, "%s/.%s.deflate-XXXXXX", sc->dir, sc->tmp_id) < 0) {
        tmp = NULL;
        goto out;
    }
    /* unlinked at once, under the temporary-file lock (as batch.c's spool) */
    se_tmp_lock();
    d.fd = se_create_unique(tmp, O_RDWR, 0600);
    if (d.fd >= 0)
        unlink(tmp);
    se_tmp_unlock();
    d.outcap = SE_GZ_SEG + SE_GZ_SEG / 8 + 4096; /* > deflateBound of a segment, sync flush included */
    if (d.fd < 0 || !(d.seg = malloc(SE_GZ_SEG)) || !(d.out = malloc(d.outcap)) ||
        deflateInit2(&d.z, sc->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        goto out;
    d.zinit = true;
    if (rebuild(sc, &d, &parts, &nparts))
        goto out;
    if (d.off) {
        sc->map = mmap(NULL, (size_t)d.off, PROT_READ, MAP_PRIVATE, d.fd, 0);
        if (sc->map == MAP_FAILED) {
            sc->map = NULL;
            goto out;
        }
        sc->maplen = (size_t)d.off;
    }
    rc = 0;
out:
    if (d.zinit)
        deflateEnd(&d.z);
    if (d.fd >= 0)
        close(d.fd); /* the mapping keeps the data */
    free(d.seg);
    free(d.out);
    free(tmp);
    if (stopped(sc)) {
        sc->status = MG_SCAN_CANCELLED;
    } else if (rc == 0) {
        sc->status = MG_SCAN_COPY;
        sc->deflated = true;
        sc->parts = parts;
        sc->nparts = nparts;
        sc->rows = 0;
        for (size_t i = 0; i < nparts; i++)
            sc->rows += parts[i].records;
        parts = NULL;
    }
    free(parts);
    if (sc->status != MG_SCAN_COPY && sc->map) {
        munmap(sc->map, sc->maplen);
        sc->map = NULL;
    }
}

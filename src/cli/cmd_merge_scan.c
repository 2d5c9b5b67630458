/* Copy-through for merge: where each part's compressed data lies in a shard's
 * tar.gz or zip, and whether it can be copied into another archive as it is.
 *
 * segexport's tar.gz (gzspool.h) is one gzip member in which every part is a
 * run of independent raw-deflate segments, each from a reset state and ending
 * with a sync flush (byte-aligned), between "glue" segments holding the tar
 * headers and paddings; its zip (zipspool.h) holds the same segments per
 * entry, closed by an empty final block.  Such a part can go into a new
 * archive byte for byte: gzspool's and zipspool's writers take it as if they
 * had compressed it (se_batch_add_deflated).
 *
 * The archive is inflated once (inflate is several times cheaper than
 * deflate), with Z_BLOCK so that inflate stops at every block boundary: a
 * part's data starts at the byte-aligned boundary where the output reaches the
 * part's first byte, and ends at the last byte-aligned boundary where it
 * reaches its last.  The inflater is reset at the start, so a part that
 * refers back into what came before it (an archive another writer made: one
 * deflate stream throughout) fails to inflate.  Each part's rows, bytes and
 * CRC-32 are checked against the manifest on the way.
 *
 * Anything unexpected - another layout, a damaged archive, a manifest that
 * does not match - gives MG_SCAN_ROWS: merge then reads that archive row by
 * row through libarchive, as before, which says precisely what is wrong. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "cmd_merge.h"

#define OUT_CHUNK (256u << 10)
#define FEED_MAX (1u << 30)
#define MANIFEST_MAX (64u << 20)

/* The manifest's list of parts, as the scan checks them. */
typedef struct manifest {
    mg_part *parts;              /* bytes, records, crc from the manifest */
    size_t nparts;
} manifest;

/* Parses the manifest text; checks batchId, names and recordCount. */
static int parse_manifest(const mg_scan *sc, const char *text, size_t len, manifest *mf)
{
    json_tokener *tok = json_tokener_new();
    json_object *man = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    json_object *files = mg_get(man, "files");
    uint64_t total = 0;
    int rc = -1;

    if (!json_object_is_type(files, json_type_array) || strcmp(mg_str(man, "batchId"), sc->batch_id))
        goto out;
    mf->nparts = json_object_array_length(files);
    if (!(mf->parts = calloc(mf->nparts ? mf->nparts : 1, sizeof *mf->parts)))
        goto out;
    for (size_t i = 0; i < mf->nparts; i++) {
        json_object *f = json_object_array_get_idx(files, i);
        char name[32], *end;
        const char *crc = mg_str(f, "crc32");
        int64_t rec = json_object_get_int64(mg_get(f, "records"));
        int64_t bytes = json_object_get_int64(mg_get(f, "bytes"));
        unsigned long c = strtoul(crc, &end, 16);

        snprintf(name, sizeof name, "part-%05zu.json", i);
        if (strcmp(mg_str(f, "name"), name) || rec < 1 || bytes < 1 || strlen(crc) != 8 || *end)
            goto out;
        mf->parts[i] = (mg_part){ 0, 0, (uint64_t)bytes, (uint64_t)rec, (uint32_t)c };
        total += (uint64_t)rec;
    }
    rc = total == (uint64_t)json_object_get_int64(mg_get(man, "recordCount")) ? 0 : -1;
out:
    json_object_put(man);
    if (tok)
        json_tokener_free(tok);
    return rc;
}

static uint64_t count_nl(const unsigned char *p, size_t n)
{
    uint64_t c = 0;
    const unsigned char *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        c++;
        p++;
    }
    return c;
}

/* One part's data as it goes by: CRC-32, newlines, last byte. */
typedef struct partsum {
    uLong crc;
    uint64_t nl, got;
    unsigned char last;
} partsum;

static void sum_add(partsum *s, const unsigned char *p, size_t n)
{
    if (!n)
        return;
    s->crc = crc32(s->crc, p, (uInt)n);
    s->nl += count_nl(p, n);
    s->got += n;
    s->last = p[n - 1];
}

/* The part as the manifest says and as it came: its rows are lines. */
static bool sum_ok(const partsum *s, const mg_part *want)
{
    return s->got == want->bytes && s->last == '\n' && s->nl == want->records &&
           (uint32_t)s->crc == want->crc;
}

static bool cancelled(const mg_scan *sc)
{
    return (sc->cancel && *sc->cancel) || (sc->stop && *sc->stop);
}

/* ---- zip ---- */

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
    return le16(p) | le16(p + 2) << 16;
}

/* Inflates [p, p+n) as one whole raw-deflate stream into *text (the manifest). */
static int inflate_all(const unsigned char *p, size_t n, size_t usize, char **text)
{
    z_stream z;
    int r;

    memset(&z, 0, sizeof z);
    if (usize > MANIFEST_MAX || !(*text = malloc(usize + 1)) || inflateInit2(&z, -15) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)*text;
    z.avail_out = (uInt)usize;
    r = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    return r == Z_STREAM_END && z.avail_out == 0 && z.avail_in == 0 ? 0 : -1;
}

/* One zip part entry: inflated from a fresh state, checked; its copy range
 * ends at the last byte-aligned block boundary before the final block. */
static int zip_part(mg_scan *sc, const unsigned char *data, size_t csize, mg_part *pt,
                    unsigned char *out)
{
    z_stream z;
    partsum s = { crc32(0L, Z_NULL, 0), 0, 0, 0 };
    size_t end = 0;
    int r = Z_OK;

    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)csize;
    while (r != Z_STREAM_END && !cancelled(sc)) {
        z.next_out = out;
        z.avail_out = OUT_CHUNK;
        r = inflate(&z, Z_BLOCK);
        if (r != Z_OK && r != Z_STREAM_END)
            break;
        sum_add(&s, out, OUT_CHUNK - z.avail_out);
        if ((z.data_type & 128) && !(z.data_type & 7) && !(z.data_type & 64) && s.got == pt->bytes)
            end = (size_t)(z.next_in - data);
    }
    inflateEnd(&z);
    if (r != Z_STREAM_END || z.avail_in || !end || !sum_ok(&s, pt))
        return -1;
    pt->clen = end;
    return 0;
}

static int scan_zip(mg_scan *sc, manifest *mf, unsigned char *out)
{
    const unsigned char *p = sc->map, *e = NULL, *cd;
    size_t n = sc->maplen, nent, cdoff;
    char *text = NULL;
    int rc = -1;

    for (size_t i = n >= 22 ? n - 22 : 0; n >= 22; i--) {
        if (le32(p + i) == 0x06054b50u) {
            e = p + i;
            break;
        }
        if (i == 0 || n - i > 65557)
            break;
    }
    /* (zip64 archives, 4 GiB and more, are read row by row) */
    if (!e || le16(e + 10) == 0xffff || le32(e + 16) == 0xffffffffu)
        return -1;
    nent = le16(e + 10);
    cdoff = le32(e + 16);
    if (cdoff >= n || nent < 1)
        return -1;
    cd = p + cdoff;
    for (size_t i = 0; i < nent; i++) {
        size_t off, data, csize, usize, nlen;
        char name[32];

        if ((size_t)(cd - p) + 46 > n || le32(cd) != 0x02014b50u)
            goto out;
        csize = le32(cd + 20);
        usize = le32(cd + 24);
        nlen = le16(cd + 28);
        off = le32(cd + 42);
        if ((size_t)(cd - p) + 46 + nlen > n || le16(cd + 10) != 8 || csize == 0xffffffffu ||
            usize == 0xffffffffu || off == 0xffffffffu || off + 30 > n || le32(p + off) != 0x04034b50u)
            goto out;
        data = off + 30 + le16(p + off + 26) + le16(p + off + 28);
        /* the local header says what the directory says (no data descriptor) */
        if (data > n || csize > n - data || (le16(p + off + 6) & 8) || le16(p + off + 8) != 8 ||
            le32(p + off + 14) != le32(cd + 16) || le32(p + off + 18) != csize ||
            le32(p + off + 22) != usize || le16(p + off + 26) != nlen ||
            memcmp(p + off + 30, cd + 46, nlen))
            goto out;
        if (i == 0) {
            if (nlen != 13 || memcmp(cd + 46, "manifest.json", 13) ||
                inflate_all(p + data, csize, usize, &text) ||
                (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)usize) != le32(cd + 16) ||
                parse_manifest(sc, text, usize, mf) ||
                nent != mf->nparts + 1)
                goto out;
        } else {
            mg_part *pt = &mf->parts[i - 1];
            snprintf(name, sizeof name, "part-%05zu.json", i - 1);
            if (nlen != strlen(name) || memcmp(cd + 46, name, nlen) || usize != pt->bytes ||
                le32(cd + 16) != pt->crc || zip_part(sc, p + data, csize, pt, out))
                goto out;
            pt->off = data;
        }
        cd += 46 + nlen + le16(cd + 30) + le16(cd + 32);
        if (cancelled(sc))
            goto out;
    }
    rc = 0;
out:
    free(text);
    return rc;
}

/* ---- tar.gz ---- */

/* A tar header's size field: octal, or base-256 (gzspool.h). */
static bool tar_size(const unsigned char *f, uint64_t *v)
{
    *v = 0;
    if (f[0] & 0x80) {
        for (size_t i = 1; i < 12; i++)
            *v = *v << 8 | f[i];
        return true;
    }
    size_t i = 0;
    for (; i < 12 && f[i] >= '0' && f[i] <= '7'; i++)
        *v = *v << 3 | (uint64_t)(f[i] - '0');
    return i > 0;
}

typedef struct tarwalk {
    mg_scan *sc;
    manifest *mf;
    unsigned char hdr[512];
    size_t hlen;
    int entry;                   /* -1 before the manifest, 0 manifest, k part k-1; -2 at the end */
    uint64_t left, pad;          /* data bytes, then padding bytes, of the current entry */
    char *mtext;
    size_t mlen;
    partsum sum;
    bool in_part, started;       /* in a part's data; its start boundary was found */
    bool ended;                  /* its data is complete: the end boundary may be taken */
    size_t zeros;                /* end-of-archive bytes seen */
    uLong all;                   /* CRC-32 of the whole stream so far (the gzip trailer's) */
} tarwalk;

static int part_done(tarwalk *w)
{
    mg_part *pt = &w->mf->parts[w->entry - 1];
    if (!sum_ok(&w->sum, pt) || !pt->clen)
        return -1;
    w->in_part = w->ended = false;
    return 0;
}

static int tar_header(tarwalk *w)
{
    char name[32];
    uint64_t size;
    int next = w->entry + 1;

    if (w->entry >= 1 && part_done(w))
        return -1;
    if (!memcmp(w->hdr, (const char[512]){ 0 }, 512)) {
        /* the end: every part listed, the manifest parsed */
        if (w->entry < 0 || (size_t)w->entry != w->mf->nparts)
            return -1;
        w->entry = -2;
        w->zeros = 512;
        return 0;
    }
    if (next == 0)
        snprintf(name, sizeof name, "manifest.json");
    else if ((size_t)next <= w->mf->nparts)
        snprintf(name, sizeof name, "part-%05d.json", next - 1);
    else
        return -1;
    if (strncmp((const char *)w->hdr, name, 100) || w->hdr[345] || (w->hdr[156] != '0' && w->hdr[156]) ||
        !tar_size(w->hdr + 124, &size))
        return -1;
    if (next == 0) {
        if (size > MANIFEST_MAX || !(w->mtext = malloc(size + 1)))
            return -1;
        w->mlen = 0;
    } else if (size != w->mf->parts[next - 1].bytes) {
        return -1;
    } else {
        w->in_part = true;
        w->started = false;
        w->sum = (partsum){ crc32(0L, Z_NULL, 0), 0, 0, 0 };
    }
    w->entry = next;
    w->left = size;
    w->pad = (512 - size % 512) % 512;
    return 0;
}

/* Walks n bytes of the tar stream. */
static int tar_walk(tarwalk *w, const unsigned char *p, size_t n)
{
    while (n) {
        size_t k;
        if (w->entry == -2) {
            /* the second zero block, then nothing */
            for (k = 0; k < n; k++)
                if (p[k])
                    return -1;
            w->all = crc32(w->all, p, (uInt)n);
            w->zeros += n;
            return w->zeros > 1024 ? -1 : 0;
        }
        if (w->left) {
            if (w->entry >= 1 && !w->started)
                return -1;    /* the part's data did not begin at a block boundary */
            k = n < w->left ? n : (size_t)w->left;
            if (w->entry == 0) {
                memcpy(w->mtext + w->mlen, p, k);
                w->mlen += k;
                w->all = crc32(w->all, p, (uInt)k);
            } else {
                sum_add(&w->sum, p, k);
            }
            w->left -= k;
            p += k;
            n -= k;
            if (!w->left && w->entry == 0) {
                w->mtext[w->mlen] = '\0';
                if (parse_manifest(w->sc, w->mtext, w->mlen, w->mf))
                    return -1;
            }
            if (!w->left && w->entry >= 1) {
                w->ended = true;
                w->all = crc32_combine(w->all, w->sum.crc, (z_off_t)w->sum.got);
            }
            continue;
        }
        if (w->in_part && w->ended && !w->mf->parts[w->entry - 1].clen)
            return -1;        /* its data did not end at a block boundary */
        w->ended = false;     /* (past it: later boundaries are the glue's) */
        if (w->pad) {
            k = n < w->pad ? n : (size_t)w->pad;
            for (size_t i = 0; i < k; i++)
                if (p[i])
                    return -1;
            w->all = crc32(w->all, p, (uInt)k);
            w->pad -= k;
            p += k;
            n -= k;
            continue;
        }
        k = 512 - w->hlen < n ? 512 - w->hlen : n;
        memcpy(w->hdr + w->hlen, p, k);
        w->all = crc32(w->all, p, (uInt)k);
        w->hlen += k;
        p += k;
        n -= k;
        if (w->hlen == 512) {
            w->hlen = 0;
            if (tar_header(w))
                return -1;
        }
    }
    return 0;
}

static int scan_gz(mg_scan *sc, manifest *mf, unsigned char *out)
{
    const unsigned char *p = sc->map;
    size_t n = sc->maplen, fed, body;
    tarwalk w = { .sc = sc, .mf = mf, .entry = -1, .all = crc32(0L, Z_NULL, 0) };
    z_stream z;
    uint64_t upos = 0;
    int r = Z_OK, rc = -1;

    /* our header: no name, no extra, no comment */
    if (n < 18 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || p[3] != 0)
        return -1;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return -1;
    body = n - 8;
    fed = 10;
    while (r != Z_STREAM_END) {
        if (z.avail_in == 0 && fed < body) {
            size_t k = body - fed > FEED_MAX ? FEED_MAX : body - fed;
            z.next_in = (Bytef *)(uintptr_t)(p + fed);
            z.avail_in = (uInt)k;
            fed += k;
        }
        z.next_out = out;
        z.avail_out = OUT_CHUNK;
        r = inflate(&z, Z_BLOCK);
        if ((r != Z_OK && r != Z_STREAM_END) || cancelled(sc))
            goto out;
        size_t got = OUT_CHUNK - z.avail_out;
        if (tar_walk(&w, out, got))
            goto out;
        upos += got;
        if ((z.data_type & 128) && !(z.data_type & 7) && !(z.data_type & 64) && w.in_part) {
            size_t cin = (size_t)(z.next_in - p);
            mg_part *pt = &mf->parts[w.entry - 1];
            if (!w.started && w.sum.got == 0) {
                /* the part's first byte is next: from here it must stand on its own */
                pt->off = cin;
                if (inflateReset(&z) != Z_OK)
                    goto out;
            } else if (w.ended) {
                pt->clen = cin - pt->off;
            }
        }
        /* a part starts from the last boundary before its first byte */
        if (w.in_part && w.sum.got == 0 && mf->parts[w.entry - 1].off)
            w.started = true;
        if (got == 0 && z.avail_in == 0 && fed >= body && r != Z_STREAM_END)
            goto out; /* truncated */
    }
    /* the trailer: CRC-32 (the parts' combined with the rest) and length */
    if (w.entry != -2 || w.zeros != 1024 || (size_t)(z.next_in - p) != body ||
        le32(p + body) != (uint32_t)w.all || le32(p + body + 4) != (uint32_t)upos)
        goto out;
    rc = 0;
out:
    inflateEnd(&z);
    free(w.mtext);
    return rc;
}

void mg_scan_run(mg_scan *sc)
{
    manifest mf = { 0 };
    unsigned char *out = NULL;
    struct stat st;
    size_t len = strlen(sc->path);
    bool zip = len > 4 && !strcmp(sc->path + len - 4, ".zip");
    int fd = open(sc->path, O_RDONLY | O_CLOEXEC), rc = -1;

    sc->status = MG_SCAN_ROWS;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 22 || !(out = malloc(OUT_CHUNK)))
        goto out;
    sc->maplen = (size_t)st.st_size;
    sc->map = mmap(NULL, sc->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
    if (sc->map == MAP_FAILED) {
        sc->map = NULL;
        goto out;
    }
    madvise(sc->map, sc->maplen, MADV_SEQUENTIAL);
    rc = zip ? scan_zip(sc, &mf, out) : scan_gz(sc, &mf, out);
out:
    if (fd >= 0)
        close(fd);
    free(out);
    if (cancelled(sc)) {
        sc->status = MG_SCAN_CANCELLED;
    } else if (rc == 0) {
        sc->status = MG_SCAN_COPY;
        sc->parts = mf.parts;
        sc->nparts = mf.nparts;
        sc->rows = 0;
        for (size_t i = 0; i < mf.nparts; i++)
            sc->rows += mf.parts[i].records;
        mf.parts = NULL;
    }
    free(mf.parts);
    if (sc->status != MG_SCAN_COPY && sc->map) {
        munmap(sc->map, sc->maplen);
        sc->map = NULL;
    }
}

void mg_scan_free(mg_scan *sc)
{
    if (sc->map)
        munmap(sc->map, sc->maplen);
    free(sc->parts);
    sc->map = NULL;
    sc->parts = NULL;
}

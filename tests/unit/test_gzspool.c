/* Unit tests for src/io/gzspool.c (tar.gz compressed while rows come):
 *  - se_tar_header is byte for byte libarchive's ustar header;
 *  - a tar.gz batch decompresses (zlib checks the gzip CRC and length) to
 *    exactly the tar archive libarchive writes for the same rows, for rows
 *    smaller and larger than a segment, 1 / 3 / many rows per part, every level;
 *  - the archive bytes are the same with the compression thread and without,
 *    and with several batches filled in turn (shared pool, bounded buffers);
 *  - zip batches from the same stream: same members and bytes as the tar
 *    archive's, read by libarchive (seekable and streaming), unzip and Python,
 *    also with zip64 fields forced; the same bytes with and without the thread;
 *  - an error met by the thread (the spool cannot be written) fails the next
 *    write or the archive, naming the spool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "batch.h"
#include "gzspool.h"
#include "zipspool.h"

#define BID "00112233445566778899aabbccddeeff"
#define MTIME ((int64_t)1538611200)

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup_dir(void **state)
{
    char *d = strdup("/tmp/segexport-test-gzspool-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    se_gzs_set_threads(1);
    return 0;
}

typedef struct blob {
    unsigned char *p;
    size_t n;
} blob;

static blob slurp(const char *path)
{
    blob b = { NULL, 0 };
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    b.p = malloc((size_t)n + 1);
    assert_non_null(b.p);
    assert_int_equal(fread(b.p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b.n = (size_t)n;
    return b;
}

/* gunzip (one member; zlib verifies the trailer's CRC-32 and length). */
static blob gunzip(blob in)
{
    blob out = { NULL, 0 };
    size_t cap = in.n * 4 + 4096;
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    out.p = malloc(cap);
    z.next_in = in.p;
    z.avail_in = (uInt)in.n;
    int rc;
    do {
        if (out.n == cap) {
            cap *= 2;
            out.p = realloc(out.p, cap);
            assert_non_null(out.p);
        }
        z.next_out = out.p + out.n;
        z.avail_out = (uInt)(cap - out.n);
        rc = inflate(&z, Z_NO_FLUSH);
        out.n = cap - z.avail_out;
        assert_true(rc == Z_OK || rc == Z_STREAM_END);
    } while (rc != Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* one member, nothing after it */
    inflateEnd(&z);
    return out;
}

/* Row i of a deterministic set: mostly short, some longer than a segment. */
static char *row(unsigned i, size_t *len)
{
    size_t n = 20 + (i * 7919u) % 300;
    if (i % 97 == 5)
        n = SE_GZ_SEG + SE_GZ_SEG / 2 + i; /* spans segments */
    char *r = malloc(n + 1);
    assert_non_null(r);
    int k = snprintf(r, n + 1, "{\"i\":%u,\"v\":\"", i);
    for (size_t j = (size_t)k; j + 2 < n; j++)
        r[j] = (char)('a' + (j * 31 + i) % 26);
    r[n - 2] = '"';
    r[n - 1] = '}';
    r[n] = '\0';
    *len = n;
    return r;
}

/* Writes nrows rows into a batch in dir/sub and returns the archive path. */
static char *build(const char *dir, const char *sub, se_format fmt, int level, uint64_t rpf,
                   unsigned nrows)
{
    char err[512] = "", *d = malloc(strlen(dir) + strlen(sub) + 2);
    se_batch_info info = { BID, "ds", 7, "s", NULL };
    assert_non_null(d);
    sprintf(d, "%s/%s", dir, sub);
    se_batch *b = se_batch_new(d, &info, fmt, level, rpf, MTIME, err, sizeof err);
    if (!b)
        fail_msg("se_batch_new: %s", err);
    for (unsigned i = 0; i < nrows; i++) {
        size_t n;
        char *r = row(i, &n);
        if (se_batch_add(b, r, n, err, sizeof err) != 0)
            fail_msg("se_batch_add: %s", err);
        free(r);
    }
    if (se_batch_finish(b, err, sizeof err) != 0 || se_batch_commit(b, err, sizeof err) != 0)
        fail_msg("finish/commit: %s", err);
    char *p = strdup(se_batch_final_path(b));
    se_batch_free(b);
    free(d);
    return p;
}

static void test_tar_header(void **state)
{
    (void)state;
    static const struct { const char *name; uint64_t size; int64_t mtime; } c[] = {
        { "manifest.json", 0, 0 }, { "part-00000.json", 1, MTIME }, { "part-12345.json", 511, 1 },
        { "part-99999.json", 077777777777ull, MTIME }, { "y", 2, 0x7ffffffell }, { "x", 123456789, MTIME },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        unsigned char mine[512], lib[4096];
        size_t used = 0;
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_add_filter_none(a), ARCHIVE_OK);
        assert_int_equal(archive_write_set_bytes_per_block(a, 512), ARCHIVE_OK);
        assert_int_equal(archive_write_open_memory(a, lib, sizeof lib, &used), ARCHIVE_OK);
        archive_entry_set_pathname(e, c[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)c[i].size);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_mtime(e, (time_t)c[i].mtime, 0);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_true(used >= 512);
        se_tar_header(mine, c[i].name, c[i].size, c[i].mtime);
        assert_memory_equal(mine, lib, 512);
        archive_entry_free(e);
        archive_write_free(a); /* the entry stays unfinished: only the header matters */
    }
    /* Too big for 11 octal digits: base-256, which libarchive reads back. */
    {
        unsigned char h[512 * 2] = { 0 };
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        se_tar_header(h, "big", (uint64_t)1 << 40, MTIME);
        assert_int_equal(h[124], 0x80);
        assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
        assert_int_equal(archive_read_open_memory(a, h, sizeof h), ARCHIVE_OK);
        assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
        assert_true(archive_entry_size(e) == (la_int64_t)((uint64_t)1 << 40));
        assert_true(archive_entry_mtime(e) == (time_t)MTIME);
        archive_read_free(a);
    }
}

/* tar.gz == gzip(libarchive's tar), and the same bytes with 0, 1, 2 and 4
 * compression threads. */
static void check_case(const char *dir, int level, uint64_t rpf, unsigned nrows)
{
    static const int nth[] = { 1, 0, 2, 4 };
    char sub[64], *g[4];
    blob a[4];
    snprintf(sub, sizeof sub, "tar-%d-%llu-%u", level, (unsigned long long)rpf, nrows);
    char *tp = build(dir, sub, SE_FMT_TAR, -1, rpf, nrows);
    for (int k = 0; k < 4; k++) {
        se_gzs_set_threads(nth[k]);
        snprintf(sub, sizeof sub, "gz%d-%d-%llu-%u", nth[k], level, (unsigned long long)rpf, nrows);
        g[k] = build(dir, sub, SE_FMT_TAR_GZ, level, rpf, nrows);
        a[k] = slurp(g[k]);
    }
    se_gzs_set_threads(1);

    blob t = slurp(tp);
    for (int k = 1; k < 4; k++) {
        assert_int_equal(a[0].n, a[k].n);
        assert_memory_equal(a[0].p, a[k].p, a[0].n);
    }
    /* The gzip header: no name, no time, XFL as libarchive/gzip(1). */
    assert_int_equal(a[0].p[0], 0x1f);
    assert_int_equal(a[0].p[1], 0x8b);
    assert_int_equal(a[0].p[3], 0);
    assert_int_equal(a[0].p[8], level == 9 ? 2 : level == 1 ? 4 : 0);
    blob u = gunzip(a[0]);
    assert_int_equal(u.n, t.n);
    assert_memory_equal(u.p, t.p, t.n);
    free(t.p); free(u.p); free(tp);
    for (int k = 0; k < 4; k++) {
        free(a[k].p);
        free(g[k]);
    }
}

/* The whole decompressed stream of a compressed file, by libarchive's
 * filters (every zstd frame / xz stream in turn, checks included). */
static blob decompress(blob in)
{
    blob out = { NULL, 0 };
    size_t cap = 1 << 16;
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    assert_non_null(a);
    assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
    assert_int_equal(archive_read_support_format_raw(a), ARCHIVE_OK);
    assert_int_equal(archive_read_open_memory(a, in.p, in.n), ARCHIVE_OK);
    assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
    assert_true(archive_filter_count(a) == 2); /* the codec's filter and "none" */
    out.p = malloc(cap);
    for (;;) {
        if (out.n == cap) {
            cap *= 2;
            out.p = realloc(out.p, cap);
        }
        assert_non_null(out.p);
        la_ssize_t r = archive_read_data(a, out.p + out.n, cap - out.n);
        assert_true(r >= 0);
        if (r == 0)
            break;
        out.n += (size_t)r;
    }
    archive_read_free(a);
    return out;
}

static int have(const char *cmd);
static blob members(blob in, int fmt_zip, int seekable);

/* tar.zst / tar.xz: concatenated frames that decompress to exactly
 * libarchive's tar, the same bytes with 0, 1 and 2 threads, read by the
 * zstd / xz and GNU tar commands too. */
static void frame_case(const char *dir, se_format fmt, int level, uint64_t rpf, unsigned nrows)
{
    static const int nth[] = { 1, 0, 2 };
    const char *ext = se_format_ext(fmt), *tool = fmt == SE_FMT_TAR_ZST ? "zstd" : "xz";
    char sub[64], *g[3];
    blob a[3];
    snprintf(sub, sizeof sub, "tar-%s-%llu-%u", ext, (unsigned long long)rpf, nrows);
    char *tp = build(dir, sub, SE_FMT_TAR, -1, rpf, nrows);
    for (int k = 0; k < 3; k++) {
        se_gzs_set_threads(nth[k]);
        snprintf(sub, sizeof sub, "%s%d-%d-%llu-%u", ext, nth[k], level, (unsigned long long)rpf, nrows);
        g[k] = build(dir, sub, fmt, level, rpf, nrows);
        a[k] = slurp(g[k]);
    }
    se_gzs_set_threads(1);
    blob t = slurp(tp);
    for (int k = 1; k < 3; k++) {
        assert_int_equal(a[0].n, a[k].n);
        assert_memory_equal(a[0].p, a[k].p, a[0].n);
    }
    /* the format's magic: zstd frame, xz stream */
    if (fmt == SE_FMT_TAR_ZST)
        assert_memory_equal(a[0].p, "\x28\xb5\x2f\xfd", 4);
    else
        assert_memory_equal(a[0].p, "\xfd" "7zXZ", 5);
    blob u = decompress(a[0]);
    assert_int_equal(u.n, t.n);
    assert_memory_equal(u.p, t.p, t.n);
    blob mt = members(t, 0, 0), ma = members(a[0], 0, 0);
    assert_int_equal(ma.n, mt.n);
    assert_memory_equal(ma.p, mt.p, mt.n);
    char cmd[1400];
    if (have(tool)) {
        snprintf(cmd, sizeof cmd, "%s -dc '%s' | cmp -s - '%s'", tool, g[0], tp);
        assert_int_equal(system(cmd), 0);
    }
    if (have("tar") && fmt == SE_FMT_TAR_XZ) {
        snprintf(cmd, sizeof cmd, "tar -xJOf '%s' >/dev/null", g[0]);
        assert_int_equal(system(cmd), 0);
    }
    free(t.p); free(u.p); free(mt.p); free(ma.p); free(tp);
    for (int k = 0; k < 3; k++) {
        free(a[k].p);
        free(g[k]);
    }
}

static void test_same_as_libarchive_tar(void **state)
{
    const char *dir = *state;
    check_case(dir, -1, 1000000, 0);   /* empty batch: manifest only */
    check_case(dir, -1, 1, 1);
    check_case(dir, -1, 1, 40);        /* a part (and segment) per row */
    check_case(dir, 1, 3, 200);        /* rows over a segment, parts across buffers */
    check_case(dir, 9, 1000, 300);
    check_case(dir, 0, 50, 120);       /* stored blocks */
}

static void test_zstd_xz(void **state)
{
    const char *dir = *state;
    frame_case(dir, SE_FMT_TAR_ZST, -1, 1000000, 0); /* manifest only */
    frame_case(dir, SE_FMT_TAR_ZST, -1, 1, 40);      /* a part (and frame) per row */
    frame_case(dir, SE_FMT_TAR_ZST, 1, 3, 200);      /* rows over a segment */
    frame_case(dir, SE_FMT_TAR_ZST, 19, 50, 30);
    frame_case(dir, SE_FMT_TAR_XZ, -1, 1000000, 0);
    frame_case(dir, SE_FMT_TAR_XZ, -1, 1, 40);
    frame_case(dir, SE_FMT_TAR_XZ, 0, 3, 100);       /* rows over a segment */
}

/* Several batches filled in turn share the pool; each archive equals the one
 * built alone without the thread. */
static void test_interleaved_batches(void **state)
{
    const char *dir = *state;
    enum { NB = 5 };
    se_batch *bs[NB];
    char err[512] = "", *paths[NB];
    se_batch_info info = { BID, "ds", 7, "s", NULL };

    se_gzs_set_threads(1);
    for (int k = 0; k < NB; k++) {
        char d[600];
        snprintf(d, sizeof d, "%s/multi-%d", dir, k);
        bs[k] = se_batch_new(d, &info, SE_FMT_TAR_GZ, -1, 5 + (uint64_t)k, MTIME, err, sizeof err);
        assert_non_null(bs[k]);
    }
    for (unsigned i = 0; i < 400; i++) {
        size_t n;
        char *r = row(i, &n);
        for (int k = 0; k < NB; k++)
            if (i % (unsigned)(k + 1) == 0)
                assert_int_equal(se_batch_add(bs[k], r, n, err, sizeof err), 0);
        free(r);
    }
    for (int k = 0; k < NB; k++) {
        assert_int_equal(se_batch_finish(bs[k], err, sizeof err), 0);
        assert_int_equal(se_batch_commit(bs[k], err, sizeof err), 0);
        paths[k] = strdup(se_batch_final_path(bs[k]));
        se_batch_free(bs[k]);
    }
    se_gzs_set_threads(0);
    for (int k = 0; k < NB; k++) {
        char d[600];
        snprintf(d, sizeof d, "%s/alone-%d", dir, k);
        se_batch *b = se_batch_new(d, &info, SE_FMT_TAR_GZ, -1, 5 + (uint64_t)k, MTIME, err, sizeof err);
        assert_non_null(b);
        for (unsigned i = 0; i < 400; i++) {
            size_t n;
            char *r = row(i, &n);
            if (i % (unsigned)(k + 1) == 0)
                assert_int_equal(se_batch_add(b, r, n, err, sizeof err), 0);
            free(r);
        }
        assert_int_equal(se_batch_finish(b, err, sizeof err), 0);
        assert_int_equal(se_batch_commit(b, err, sizeof err), 0);
        blob x = slurp(paths[k]), y = slurp(se_batch_final_path(b));
        assert_int_equal(x.n, y.n);
        assert_memory_equal(x.p, y.p, x.n);
        free(x.p); free(y.p); free(paths[k]);
        se_batch_free(b);
    }
}

/* The spool fd refuses writes (read-only): the thread's error comes back. */
static void spool_error(const char *dir, int threads, int many)
{
    char path[600], err[256] = "";
    int spfail = 0;
    snprintf(path, sizeof path, "%s/ro-%d-%d", dir, threads, many);
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    assert_true(fd >= 0);
    close(fd);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    se_gzs_set_threads(threads);
    se_gzs *s = se_gzs_new(fd, SE_GZC_DEFLATE, 6);
    assert_non_null(s);
    assert_int_equal(se_gzs_part(s, 0, err, sizeof err), 0);
    int failed = 0;
    size_t total = many ? 8 * (size_t)SE_GZ_SEG : 100;
    char *chunk = calloc(1, 4096);
    for (size_t done = 0; done < total && !failed; done += 4096)
        failed = se_gzs_write(s, chunk, 4096, err, sizeof err) != 0;
    if (!failed) {
        se_gz_part p = { total, 0 };
        int out = open("/dev/null", O_WRONLY);
        failed = se_gzs_write_archive(s, out, "{}\n", 3, &p, 1, MTIME, &spfail, err, sizeof err) != 0;
        close(out);
        assert_true(spfail);
    }
    assert_true(failed);
    assert_non_null(strstr(err, "spool: Bad file descriptor"));
    se_gzs_free(s);
    close(fd);
    free(chunk);
    se_gzs_set_threads(1);
}

/* Every member of an archive in memory as "name\n<size>\n<data>" records. */
static blob members(blob in, int fmt_zip, int seekable)
{
    blob out = { NULL, 0 };
    size_t cap = 1 << 16;
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    out.p = malloc(cap);
    if (!fmt_zip) {
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
    } else if (seekable) {
        archive_read_support_format_zip_seekable(a);
    } else {
        archive_read_support_format_zip_streamable(a);
    }
    assert_int_equal(archive_read_open_memory(a, in.p, in.n), ARCHIVE_OK);
    int rc;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        char head[128];
        la_int64_t size = archive_entry_size(e);
        int k = snprintf(head, sizeof head, "%s\n%lld\n", archive_entry_pathname(e), (long long)size);
        while (out.n + (size_t)k + (size_t)size + 1 > cap)
            cap *= 2;
        out.p = realloc(out.p, cap);
        assert_non_null(out.p);
        memcpy(out.p + out.n, head, (size_t)k);
        out.n += (size_t)k;
        assert_true(archive_read_data(a, out.p + out.n, (size_t)size) == size);
        out.n += (size_t)size;
        assert_true(archive_entry_mtime(e) == (time_t)MTIME);
    }
    assert_int_equal(rc, ARCHIVE_EOF);
    archive_read_free(a);
    return out;
}

static int have(const char *cmd)
{
    char c[256];
    snprintf(c, sizeof c, "command -v %s >/dev/null 2>&1", cmd);
    return system(c) == 0;
}

static void zip_case(const char *dir, int level, uint64_t rpf, unsigned nrows, int force64)
{
    char sub[64];
    snprintf(sub, sizeof sub, "ztar-%d-%llu-%u-%d", level, (unsigned long long)rpf, nrows, force64);
    char *tp = build(dir, sub, SE_FMT_TAR, -1, rpf, nrows);
    se_zip_force64 = force64;
    se_gzs_set_threads(1);
    snprintf(sub, sizeof sub, "z1-%d-%llu-%u-%d", level, (unsigned long long)rpf, nrows, force64);
    char *z1 = build(dir, sub, SE_FMT_ZIP, level, rpf, nrows);
    se_gzs_set_threads(0);
    snprintf(sub, sizeof sub, "z0-%d-%llu-%u-%d", level, (unsigned long long)rpf, nrows, force64);
    char *z0 = build(dir, sub, SE_FMT_ZIP, level, rpf, nrows);
    se_gzs_set_threads(1);
    se_zip_force64 = 0;

    blob t = slurp(tp), a = slurp(z1), b = slurp(z0);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.p, b.p, a.n);
    blob mt = members(t, 0, 0);
    for (int seekable = 0; seekable <= 1; seekable++) {
        blob mz = members(a, 1, seekable);
        assert_int_equal(mz.n, mt.n);
        assert_memory_equal(mz.p, mt.p, mt.n);
        free(mz.p);
    }
    char cmd[1400];
    if (have("unzip")) {
        snprintf(cmd, sizeof cmd, "unzip -tq '%s' >/dev/null", z1);
        assert_int_equal(system(cmd), 0);
    }
    if (have("python3")) {
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                 "assert z.testzip() is None; assert z.namelist()[0] == \"manifest.json\"' '%s'", z1);
        assert_int_equal(system(cmd), 0);
    }
    free(t.p); free(a.p); free(b.p); free(mt.p);
    free(tp); free(z1); free(z0);
}

static void test_zip(void **state)
{
    const char *dir = *state;
    zip_case(dir, -1, 1000000, 0, 0);   /* empty batch */
    zip_case(dir, -1, 1, 30, 0);
    zip_case(dir, 1, 3, 200, 0);        /* rows over a segment */
    zip_case(dir, 9, 1000, 150, 0);
    zip_case(dir, 0, 50, 120, 0);       /* stored blocks */
    zip_case(dir, -1, 1000000, 0, 1);   /* zip64 fields everywhere */
    zip_case(dir, -1, 40, 200, 1);
}

static void test_spool_error(void **state)
{
    for (int t = 0; t <= 1; t++)
        for (int m = 0; m <= 1; m++)
            spool_error(*state, t, m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tar_header),
        cmocka_unit_test_setup_teardown(test_same_as_libarchive_tar, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_interleaved_batches, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_zip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_zstd_xz, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_spool_error, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

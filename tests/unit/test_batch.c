/* Unit tests for src/io/batch.c: parts, manifest, every archive format read back,
 * reproducibility, temporary-file hygiene, commit, level checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "batch.h"

#define BID "0123456789abcdef0123456789abcdef"
#define MTIME ((int64_t)1700000000)

static const se_format all_fmts[] = { SE_FMT_TAR_GZ, SE_FMT_TAR_ZST, SE_FMT_TAR_XZ, SE_FMT_TAR, SE_FMT_ZIP };
#define NFMTS (sizeof all_fmts / sizeof all_fmts[0])

/* ---- helpers ---- */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void rm_rf(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup_dir(void **state)
{
    char *d = strdup("/tmp/segexport-test-batch-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    rm_rf(*state);
    free(*state);
    return 0;
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

typedef struct entry {
    char *name;
    char *data;
    size_t len;
    mode_t mode;
    int64_t mtime;
} entry;

/* Reads every entry of an archive, in order. */
static size_t read_archive(const char *path, entry *out, size_t max)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    size_t n = 0;
    int r;

    assert_non_null(a);
    assert_int_equal(archive_read_support_format_all(a), ARCHIVE_OK);
    assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
    assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        assert_true(n < max);
        la_int64_t size = archive_entry_size(e);
        out[n].name = strdup(archive_entry_pathname(e));
        out[n].mode = archive_entry_mode(e);
        out[n].mtime = archive_entry_mtime(e);
        out[n].data = malloc((size_t)size + 1);
        assert_non_null(out[n].data);
        la_ssize_t got = 0, k;
        while ((k = archive_read_data(a, out[n].data + got, (size_t)(size - got) + 1)) > 0)
            got += k;
        assert_true(k == 0);
        assert_int_equal(got, size);
        out[n].data[got] = '\0';
        out[n].len = (size_t)got;
        n++;
    }
    assert_int_equal(r, ARCHIVE_EOF);
    archive_read_free(a);
    return n;
}

static void free_entries(entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].data);
    }
}

static json_object *test_segments(void)
{
    json_object *a = json_tokener_parse(
        "[{\"segmentId\":\"seg/1\",\"segmentNs\":\"ups\",\"status\":[\"realized\"]}]");
    assert_non_null(a);
    return a;
}

static se_batch *new_batch(const char *dir, se_format fmt, int level, uint64_t rpf, int64_t mtime,
                           json_object *segs)
{
    char err[512] = "";
    se_batch_info info = { BID, "ds1", 42, "_xdm.context.profile", segs };
    se_batch *b = se_batch_new(dir, &info, fmt, level, rpf, mtime, err, sizeof err);
    if (!b)
        fail_msg("se_batch_new: %s", err);
    return b;
}

static void add_row(se_batch *b, const char *row)
{
    char err[512] = "";
    if (se_batch_add(b, row, strlen(row), err, sizeof err) != 0)
        fail_msg("se_batch_add: %s", err);
}

static void finish_commit(se_batch *b)
{
    char err[512] = "";
    if (se_batch_finish(b, err, sizeof err) != 0)
        fail_msg("se_batch_finish: %s", err);
    if (se_batch_commit(b, err, sizeof err) != 0)
        fail_msg("se_batch_commit: %s", err);
}

static const char *rows5[] = {
    "{\"a\":1}", "{\"b\":\"two\"}", "{\"c\":[3,3,3]}", "{\"d\":{\"x\":\"a/b\"}}", "{}",
};

/* Builds the 5-row batch (2 rows per file) in dir, committed; returns the path. */
static char *build_5(const char *dir, se_format fmt, int level, int64_t mtime)
{
    json_object *segs = test_segments();
    se_batch *b = new_batch(dir, fmt, level, 2, mtime, segs);
    json_object_put(segs); /* borrowed only during new: the batch keeps a copy */
    for (size_t i = 0; i < 5; i++)
        add_row(b, rows5[i]);
    assert_int_equal(se_batch_records(b), 5);
    finish_commit(b);
    char *p = strdup(se_batch_final_path(b));
    se_batch_free(b);
    return p;
}

static uint32_t crc_of(const char *s)
{
    return (uint32_t)crc32(0L, (const Bytef *)s, (uInt)strlen(s));
}

static char *expected_part(size_t first, size_t n)
{
    static char buf[256];
    buf[0] = '\0';
    for (size_t i = first; i < first + n; i++) {
        strcat(buf, rows5[i]);
        strcat(buf, "\n");
    }
    return buf;
}

static char *expected_manifest_5(void)
{
    char p0[256], p1[256], p2[256];
    char *m = malloc(2048);
    assert_non_null(m);
    strcpy(p0, expected_part(0, 2));
    strcpy(p1, expected_part(2, 2));
    strcpy(p2, expected_part(4, 1));
    snprintf(m, 2048,
             "{\"batchId\":\"" BID "\",\"datasetId\":\"ds1\",\"jobId\":42,"
             "\"schema\":{\"name\":\"_xdm.context.profile\"},"
             "\"segments\":[{\"segmentId\":\"seg/1\",\"segmentNs\":\"ups\",\"status\":[\"realized\"]}],"
             "\"recordCount\":5,\"files\":["
             "{\"name\":\"part-00000.json\",\"records\":2,\"bytes\":%zu,\"crc32\":\"%08" PRIx32 "\"},"
             "{\"name\":\"part-00001.json\",\"records\":2,\"bytes\":%zu,\"crc32\":\"%08" PRIx32 "\"},"
             "{\"name\":\"part-00002.json\",\"records\":1,\"bytes\":%zu,\"crc32\":\"%08" PRIx32 "\"}]}\n",
             strlen(p0), crc_of(p0), strlen(p1), crc_of(p1), strlen(p2), crc_of(p2));
    return m;
}

static void check_5_archive(const char *path)
{
    entry e[8];
    size_t n = read_archive(path, e, 8);
    char *m = expected_manifest_5();

    assert_int_equal(n, 4);
    assert_string_equal(e[0].name, "manifest.json");
    assert_string_equal(e[0].data, m);
    assert_string_equal(e[1].name, "part-00000.json");
    assert_string_equal(e[1].data, expected_part(0, 2));
    assert_string_equal(e[2].name, "part-00001.json");
    assert_string_equal(e[2].data, expected_part(2, 2));
    assert_string_equal(e[3].name, "part-00002.json");
    assert_string_equal(e[3].data, expected_part(4, 1));
    for (size_t i = 0; i < n; i++) {
        assert_true(S_ISREG(e[i].mode));
        assert_int_equal(e[i].mode & 07777, 0644);
        assert_int_equal(e[i].mtime, MTIME);
    }
    free(m);
    free_entries(e, n);
}

/* ---- tests ---- */

static void test_format_names(void **state)
{
    se_format f;
    (void)state;
    for (size_t i = 0; i < NFMTS; i++) {
        assert_int_equal(se_format_parse(se_format_ext(all_fmts[i]), &f), 0);
        assert_int_equal(f, all_fmts[i]);
    }
    assert_string_equal(se_format_ext(SE_FMT_TAR_ZST), "tar.zst");
    assert_int_equal(se_format_parse("tgz", &f), -1);
    assert_int_equal(se_format_parse("", &f), -1);
}

static void test_levels(void **state)
{
    char err[128];
    (void)state;
    assert_int_equal(se_format_check_level(SE_FMT_TAR_GZ, 12, err, sizeof err), -1);
    assert_string_equal(err, "--level 12: tar.gz takes 0-9");
    assert_int_equal(se_format_check_level(SE_FMT_TAR, 3, err, sizeof err), -1);
    assert_string_equal(err, "--level 3: tar takes no compression level");
    assert_int_equal(se_format_check_level(SE_FMT_TAR_ZST, 0, err, sizeof err), -1);
    assert_string_equal(err, "--level 0: tar.zst takes 1-19");
    assert_int_equal(se_format_check_level(SE_FMT_TAR_ZST, 20, err, sizeof err), -1);
    assert_int_equal(se_format_check_level(SE_FMT_TAR_XZ, 10, err, sizeof err), -1);
    assert_string_equal(err, "--level 10: tar.xz takes 0-9");
    assert_int_equal(se_format_check_level(SE_FMT_ZIP, -2, err, sizeof err), -1);
    assert_string_equal(err, "--level -2: zip takes 0-9");
    assert_int_equal(se_format_check_level(SE_FMT_TAR_ZST, 19, err, sizeof err), 0);
    assert_int_equal(se_format_check_level(SE_FMT_TAR_ZST, 1, err, sizeof err), 0);
    assert_int_equal(se_format_check_level(SE_FMT_TAR_GZ, 0, err, sizeof err), 0);
    assert_int_equal(se_format_check_level(SE_FMT_ZIP, 9, err, sizeof err), 0);
    for (size_t i = 0; i < NFMTS; i++) /* -1: the format's default */
        assert_int_equal(se_format_check_level(all_fmts[i], -1, err, sizeof err), 0);
}

static void test_new_rejects(void **state)
{
    char err[512];
    const char *dir = *state;
    se_batch_info info = { BID, "ds1", 1, "s", NULL };
    se_batch_info bad = { "../../etc/passwd", "ds1", 1, "s", NULL };

    assert_null(se_batch_new(dir, &info, SE_FMT_TAR, 1, 10, 0, err, sizeof err));
    assert_string_equal(err, "--level 1: tar takes no compression level");
    assert_null(se_batch_new(dir, &bad, SE_FMT_TAR, -1, 10, 0, err, sizeof err));
    assert_non_null(strstr(err, "batchId"));
    assert_null(se_batch_new(dir, &info, SE_FMT_TAR, -1, 0, 0, err, sizeof err));

    /* A path component that is a regular file. */
    char *file = path_join(dir, "plain");
    int fd = open(file, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    close(fd);
    char *sub = path_join(file, "ds1");
    assert_null(se_batch_new(sub, &info, SE_FMT_TAR, -1, 10, 0, err, sizeof err));
    char want[600];
    snprintf(want, sizeof want, "%s: Not a directory", file); /* names the culprit */
    assert_string_equal(err, want);
    free(sub);
    free(file);
    assert_int_equal(count_entries(dir), 1);
}

static void test_manifest_parts(void **state)
{
    const char *dir = *state;
    json_object *segs = test_segments();
    se_batch *b = new_batch(dir, SE_FMT_TAR_GZ, -1, 2, MTIME, segs);
    json_object_put(segs);

    for (size_t i = 0; i < 5; i++)
        add_row(b, rows5[i]);
    json_object *m = se_batch_manifest(b);
    assert_non_null(m);
    char *want = expected_manifest_5();
    char got[2048];
    snprintf(got, sizeof got, "%s\n",
             json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    assert_string_equal(got, want);
    free(want);
    json_object_put(m);
    finish_commit(b);
    check_5_archive(se_batch_final_path(b));
    se_batch_free(b);
}

static void test_exact_multiple(void **state)
{
    const char *dir = *state;
    se_batch *b = new_batch(dir, SE_FMT_TAR, -1, 2, MTIME, NULL);

    for (size_t i = 0; i < 4; i++)
        add_row(b, rows5[i]);
    json_object *m = se_batch_manifest(b), *files;
    assert_true(json_object_object_get_ex(m, "files", &files));
    assert_int_equal(json_object_array_length(files), 2); /* no empty third part */
    json_object_put(m);
    finish_commit(b);
    entry e[8];
    size_t n = read_archive(se_batch_final_path(b), e, 8);
    assert_int_equal(n, 3);
    assert_string_equal(e[2].name, "part-00001.json");
    free_entries(e, n);
    se_batch_free(b);
}

static void test_empty_batch(void **state)
{
    const char *dir = *state;
    se_batch *b = new_batch(dir, SE_FMT_TAR_GZ, -1, 100, MTIME, NULL);
    entry e[4];

    assert_int_equal(se_batch_records(b), 0);
    finish_commit(b);
    size_t n = read_archive(se_batch_final_path(b), e, 4);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].name, "manifest.json");
    assert_string_equal(e[0].data,
                        "{\"batchId\":\"" BID "\",\"datasetId\":\"ds1\",\"jobId\":42,"
                        "\"schema\":{\"name\":\"_xdm.context.profile\"},\"segments\":[],"
                        "\"recordCount\":0,\"files\":[]}\n");
    free_entries(e, n);
    se_batch_free(b);
    assert_int_equal(count_entries(dir), 1);
}

static void test_every_format(void **state)
{
    const char *dir = *state;
    for (size_t i = 0; i < NFMTS; i++) {
        char *sub = path_join(dir, se_format_ext(all_fmts[i]));
        char *p = build_5(sub, all_fmts[i], -1, MTIME);
        char want[600];
        snprintf(want, sizeof want, "%s/%s.%s", sub, BID, se_format_ext(all_fmts[i]));
        assert_string_equal(p, want);
        check_5_archive(p);
        assert_int_equal(count_entries(sub), 1);
        free(p);
        free(sub);
    }
}

static void test_explicit_levels(void **state)
{
    const char *dir = *state;
    static const struct { se_format f; int level; } cases[] = {
        { SE_FMT_TAR_GZ, 0 }, { SE_FMT_TAR_GZ, 9 }, { SE_FMT_TAR_ZST, 1 }, { SE_FMT_TAR_ZST, 19 },
        { SE_FMT_TAR_XZ, 0 }, { SE_FMT_TAR_XZ, 9 }, { SE_FMT_ZIP, 0 }, { SE_FMT_ZIP, 9 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "l%zu", i);
        char *sub = path_join(dir, name);
        char *p = build_5(sub, cases[i].f, cases[i].level, MTIME);
        check_5_archive(p);
        free(p);
        free(sub);
    }
}

static void test_reproducible(void **state)
{
    const char *dir = *state;
    for (size_t i = 0; i < NFMTS; i++) {
        char n1[64], n2[64], n3[64];
        snprintf(n1, sizeof n1, "a-%zu/nested/ds", i);
        snprintf(n2, sizeof n2, "b-%zu", i);
        snprintf(n3, sizeof n3, "c-%zu", i);
        char *d1 = path_join(dir, n1), *d2 = path_join(dir, n2), *d3 = path_join(dir, n3);
        char *p1 = build_5(d1, all_fmts[i], -1, MTIME);
        char *p2 = build_5(d2, all_fmts[i], -1, MTIME);
        char *p3 = build_5(d3, all_fmts[i], -1, MTIME + 86400 * 3);
        size_t l1, l2, l3;
        char *b1 = read_file(p1, &l1), *b2 = read_file(p2, &l2), *b3 = read_file(p3, &l3);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);
        /* Sanity: the entry time does reach the bytes. */
        assert_true(l1 != l3 || memcmp(b1, b3, l1) != 0);
        free(b1); free(b2); free(b3);
        free(p1); free(p2); free(p3);
        free(d1); free(d2); free(d3);
    }
}

static void test_no_temp_without_commit(void **state)
{
    const char *dir = *state;
    char err[512];

    /* Freed before finish: the spool was never visible. */
    se_batch *b = new_batch(dir, SE_FMT_TAR_GZ, -1, 2, MTIME, NULL);
    add_row(b, "{\"x\":1}");
    assert_int_equal(count_entries(dir), 0);
    se_batch_free(b);
    assert_int_equal(count_entries(dir), 0);

    /* Finished, not committed: the temporary archive exists, then goes. */
    b = new_batch(dir, SE_FMT_ZIP, -1, 2, MTIME, NULL);
    add_row(b, "{\"x\":1}");
    assert_int_equal(se_batch_finish(b, err, sizeof err), 0);
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(access(se_batch_final_path(b), F_OK), -1);
    assert_int_equal(se_batch_add(b, "{}", 2, err, sizeof err), -1);
    se_batch_free(b);
    assert_int_equal(count_entries(dir), 0);

    /* Commit before finish is refused. */
    b = new_batch(dir, SE_FMT_TAR, -1, 2, MTIME, NULL);
    assert_int_equal(se_batch_commit(b, err, sizeof err), -1);
    se_batch_free(b);
    assert_int_equal(count_entries(dir), 0);
}

static void test_commit_no_clobber(void **state)
{
    const char *dir = *state;
    char err[512];
    char *p = build_5(dir, SE_FMT_TAR, -1, MTIME);
    size_t l1, l2;
    char *before = read_file(p, &l1);

    se_batch *b = new_batch(dir, SE_FMT_TAR, -1, 2, MTIME, NULL);
    assert_int_equal(se_batch_finish(b, err, sizeof err), 0);
    assert_int_equal(se_batch_commit(b, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s: File exists", p);
    assert_string_equal(err, want);
    se_batch_free(b);
    assert_int_equal(count_entries(dir), 1);
    char *after = read_file(p, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(before, after, l1);
    free(before);
    free(after);
    free(p);
}

/* se_batch_rollback removes only what this batch committed: an uncommitted
 * batch (e.g. one whose commit met an existing archive) takes nothing away. */
static void test_rollback(void **state)
{
    const char *dir = *state;
    char err[512];
    se_batch *b = new_batch(dir, SE_FMT_TAR_GZ, -1, 2, MTIME, NULL);

    add_row(b, "{\"x\":1}");
    assert_int_equal(se_batch_rollback(b, err, sizeof err), 0); /* not committed: no-op */
    finish_commit(b);
    assert_int_equal(access(se_batch_final_path(b), F_OK), 0);
    assert_int_equal(se_batch_rollback(b, err, sizeof err), 0);
    assert_int_equal(access(se_batch_final_path(b), F_OK), -1);
    assert_int_equal(count_entries(dir), 0);
    assert_int_equal(se_batch_rollback(b, err, sizeof err), 0); /* twice: no-op */
    se_batch_free(b);

    /* A commit refused by an existing archive: rollback leaves that archive. */
    char *p = build_5(dir, SE_FMT_TAR, -1, MTIME);
    b = new_batch(dir, SE_FMT_TAR, -1, 2, MTIME, NULL);
    assert_int_equal(se_batch_finish(b, err, sizeof err), 0);
    assert_int_equal(se_batch_commit(b, err, sizeof err), -1);
    assert_int_equal(se_batch_rollback(b, err, sizeof err), 0);
    se_batch_free(b);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_equal(count_entries(dir), 1);
    free(p);
}

/* The dataset directory is held open from se_batch_new on: swapped for a
 * link to another directory while the job runs (a shared output), the
 * archive still goes into the directory the batch began in, and rollback
 * removes it there - nothing is made or removed through the link. */
static void test_dir_swapped_for_link(void **state)
{
    const char *dir = *state;
    char ds[512], real[512], other[512], arch[600], err[512];

    snprintf(ds, sizeof ds, "%s/ds", dir);
    snprintf(real, sizeof real, "%s/ds.real", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    snprintf(arch, sizeof arch, "%s/%s.tar.gz", real, BID);
    se_batch *b = new_batch(ds, SE_FMT_TAR_GZ, -1, 2, MTIME, NULL);
    add_row(b, "{\"x\":1}");
    assert_int_equal(rename(ds, real), 0);
    assert_int_equal(mkdir(other, 0755), 0);
    assert_int_equal(symlink("other", ds), 0);
    add_row(b, "{\"x\":2}");
    finish_commit(b);
    assert_int_equal(count_entries(other), 0);
    assert_int_equal(count_entries(real), 1);
    assert_int_equal(access(arch, F_OK), 0);
    assert_int_equal(se_batch_rollback(b, err, sizeof err), 0);
    assert_int_equal(access(arch, F_OK), -1);
    assert_int_equal(count_entries(real), 0);
    se_batch_free(b);
    assert_int_equal(count_entries(other), 0);
}

static void test_big_rows(void **state)
{
    const char *dir = *state;
    size_t big = (3u << 20) + 17; /* past the 1 MiB spool buffer */
    char *row = malloc(big + 1);
    assert_non_null(row);
    memset(row, 'x', big);
    row[0] = '"';
    row[big - 1] = '"';
    row[big] = '\0';

    se_batch *b = new_batch(dir, SE_FMT_TAR_ZST, -1, 3, MTIME, NULL);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int i = 0; i < 3; i++) {
        add_row(b, row);
        crc = crc32(crc, (const Bytef *)row, (uInt)big);
        crc = crc32(crc, (const Bytef *)"\n", 1);
    }
    add_row(b, "1"); /* second part */
    finish_commit(b);

    json_object *m = se_batch_manifest(b), *files, *f0, *v;
    assert_true(json_object_object_get_ex(m, "files", &files));
    assert_int_equal(json_object_array_length(files), 2);
    f0 = json_object_array_get_idx(files, 0);
    assert_true(json_object_object_get_ex(f0, "bytes", &v));
    assert_int_equal(json_object_get_int64(v), (int64_t)(3 * (big + 1)));
    assert_true(json_object_object_get_ex(f0, "crc32", &v));
    char crcs[9];
    snprintf(crcs, sizeof crcs, "%08lx", crc);
    assert_string_equal(json_object_get_string(v), crcs);
    json_object_put(m);

    entry e[4];
    size_t n = read_archive(se_batch_final_path(b), e, 4);
    assert_int_equal(n, 3);
    assert_int_equal(e[1].len, 3 * (big + 1));
    for (int i = 0; i < 3; i++) {
        assert_memory_equal(e[1].data + (size_t)i * (big + 1), row, big);
        assert_int_equal(e[1].data[(size_t)i * (big + 1) + big], '\n');
    }
    assert_string_equal(e[2].data, "1\n");
    free_entries(e, n);
    se_batch_free(b);
    free(row);
}

static int have_tool(const char *t)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", t);
    return system(cmd) == 0;
}

static void test_external_tools(void **state)
{
    const char *dir = *state;
    char cmd[1024];
    int ran = 0;

    for (size_t i = 0; i < NFMTS; i++) {
        char *sub = path_join(dir, se_format_ext(all_fmts[i]));
        char *p = build_5(sub, all_fmts[i], -1, MTIME);
        if (all_fmts[i] == SE_FMT_ZIP) {
            if (have_tool("unzip")) {
                snprintf(cmd, sizeof cmd, "unzip -l '%s' >/dev/null && unzip -tq '%s' >/dev/null", p, p);
                assert_int_equal(system(cmd), 0);
                ran++;
            }
        }
        if (have_tool("bsdtar")) {
            snprintf(cmd, sizeof cmd,
                     "test \"$(bsdtar -tf '%s' | tr '\\n' ' ')\" = "
                     "'manifest.json part-00000.json part-00001.json part-00002.json '", p);
            assert_int_equal(system(cmd), 0);
            ran++;
        }
        free(p);
        free(sub);
    }
    if (!ran)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_levels),
        cmocka_unit_test_setup_teardown(test_new_rejects, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_manifest_parts, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_exact_multiple, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_empty_batch, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_every_format, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_explicit_levels, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_reproducible, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_no_temp_without_commit, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_commit_no_clobber, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_rollback, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_dir_swapped_for_link, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_big_rows, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_external_tools, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/io/store.c: ids (also across processes), records, scope,
 * damage reports, removal, enumeration. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

/* ---- helpers ---- */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup_dir(void **state)
{
    char *d = strdup("/tmp/segexport-test-store-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

static char *fmt_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *fmt_path(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    assert_true(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    return s;
}

static se_store *open_store(const char *dir, const char *org, const char *sandbox)
{
    char err[512] = "";
    se_store *st = se_store_open(dir, org, sandbox, err, sizeof err);
    if (!st)
        fail_msg("se_store_open: %s", err);
    return st;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 65536);
    assert_non_null(f);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void put_job(se_store *st, int64_t id, pid_t pid, const char *json)
{
    char err[512] = "";
    json_object *job = json_tokener_parse(json);
    assert_non_null(job);
    if (se_store_put(st, id, pid, job, err, sizeof err) != 0)
        fail_msg("se_store_put: %s", err);
    json_object_put(job);
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

/* ---- tests ---- */

static void test_open(void **state)
{
    const char *dir = *state;
    char err[512];
    char *nested = fmt_path("%s/a/b/store", dir);
    se_store *st = open_store(nested, "o", "s");
    struct stat sb;

    assert_string_equal(se_store_dir(st), nested);
    char *jobs = fmt_path("%s/jobs", nested);
    assert_int_equal(stat(jobs, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    se_store_free(st);
    se_store_free(NULL);

    /* A regular file where the store should be. */
    char *file = fmt_path("%s/plain", dir);
    write_text(file, "x");
    assert_null(se_store_open(file, "o", "s", err, sizeof err));
    char *want = fmt_path("%s: Not a directory", file);
    assert_string_equal(err, want);
    free(want);
    free(file);
    free(jobs);
    free(nested);
}

static void test_ids_sequential(void **state)
{
    const char *dir = *state;
    char err[512];
    int64_t id = 0;
    se_store *st = open_store(dir, "o", "s");

    for (int64_t want = 1; want <= 3; want++) {
        assert_int_equal(se_store_next_id(st, &id, err, sizeof err), 0);
        assert_int_equal(id, want);
    }
    char *counter = fmt_path("%s/counter", dir);
    char *text = read_text(counter);
    assert_string_equal(text, "3\n");
    free(text);

    /* Another handle on the same store continues the sequence. */
    se_store *st2 = open_store(dir, "other", "s");
    assert_int_equal(se_store_next_id(st2, &id, err, sizeof err), 0);
    assert_int_equal(id, 4);
    se_store_free(st2);

    /* A damaged counter is reported, not guessed around. */
    write_text(counter, "banana\n");
    assert_int_equal(se_store_next_id(st, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "counter: damaged id counter"));
    free(counter);
    se_store_free(st);
}

static void test_counter_recovers_from_records(void **state)
{
    const char *dir = *state;
    char err[512];
    int64_t id = 0;
    se_store *st = open_store(dir, "o", "s");

    put_job(st, 5, 0, "{\"id\":5}");
    put_job(st, 3, 0, "{\"id\":3}");
    /* No counter file: ids continue after the highest record present. */
    assert_int_equal(se_store_next_id(st, &id, err, sizeof err), 0);
    assert_int_equal(id, 6);
    se_store_free(st);
}

#define NCHILD 8
#define NPER 25

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_ids_concurrent(void **state)
{
    const char *dir = *state;
    int fds[2];
    pid_t kids[NCHILD];
    int64_t got[NCHILD * NPER + 1];
    size_t n = 0;

    assert_int_equal(pipe(fds), 0);
    for (int c = 0; c < NCHILD; c++) {
        kids[c] = fork();
        assert_true(kids[c] >= 0);
        if (kids[c] == 0) {
            char err[512];
            close(fds[0]);
            se_store *st = se_store_open(dir, "o", "s", err, sizeof err);
            if (!st)
                _exit(2);
            for (int i = 0; i < NPER; i++) {
                int64_t id;
                if (se_store_next_id(st, &id, err, sizeof err) != 0)
                    _exit(3);
                if (write(fds[1], &id, sizeof id) != (ssize_t)sizeof id)
                    _exit(4);
            }
            se_store_free(st);
            _exit(0);
        }
    }
    close(fds[1]);
    for (;;) {
        int64_t id;
        ssize_t r = read(fds[0], &id, sizeof id);
        if (r == 0)
            break;
        assert_int_equal(r, sizeof id);
        assert_true(n < NCHILD * NPER);
        got[n++] = id;
    }
    close(fds[0]);
    for (int c = 0; c < NCHILD; c++) {
        int ws;
        assert_int_equal(waitpid(kids[c], &ws, 0), kids[c]);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 0);
    }
    assert_int_equal(n, NCHILD * NPER);
    qsort(got, n, sizeof got[0], cmp_i64);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], (int64_t)i + 1); /* distinct, 1..200 */
    assert_int_equal(got[n - 1], NCHILD * NPER);
    /* Only counter, counter.lock and jobs: no temporary counter left behind. */
    assert_int_equal(count_entries(dir), 3);
}

static void test_put_get(void **state)
{
    const char *dir = *state;
    char err[512];
    se_store *st = open_store(dir, "org@AdobeOrg", "prod");
    json_object *job = NULL;
    pid_t pid = -1;

    put_job(st, 7, getpid(), "{\"id\":7,\"status\":\"NEW\",\"destination\":{\"datasetId\":\"a/b\"}}");
    char *path = fmt_path("%s/jobs/7.json", dir);
    char *text = read_text(path);
    char *want_head = fmt_path("{\"format\":1,\"org\":\"org@AdobeOrg\",\"sandbox\":\"prod\",\"pid\":%ld,\"pidStart\":",
                               (long)getpid());
    assert_memory_equal(text, want_head, strlen(want_head));
    assert_true(text[strlen(want_head)] >= '1' && text[strlen(want_head)] <= '9'); /* a real start time */
    assert_non_null(strstr(text, ",\"job\":{\"id\":7,\"status\":\"NEW\",\"destination\":{\"datasetId\":\"a/b\"}}}\n"));
    free(want_head);
    free(text);

    assert_int_equal(se_store_get(st, 7, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, getpid());
    json_object *want = json_tokener_parse("{\"id\":7,\"status\":\"NEW\",\"destination\":{\"datasetId\":\"a/b\"}}");
    assert_true(json_object_equal(job, want));
    json_object_put(want);
    json_object_put(job);

    /* A worker that is gone reads as pid 0: a child that has exited and been reaped. */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    put_job(st, 7, child, "{\"id\":7,\"status\":\"PROCESSING\"}");
    assert_int_equal(se_store_get(st, 7, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, 0);
    json_object_put(job);

    /* Replacement. */
    put_job(st, 7, 0, "{\"id\":7,\"status\":\"SUCCEEDED\"}");
    assert_int_equal(se_store_get(st, 7, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, 0);
    json_object *s;
    assert_true(json_object_object_get_ex(job, "status", &s));
    assert_string_equal(json_object_get_string(s), "SUCCEEDED");
    json_object_put(job);

    /* Missing and impossible ids. */
    assert_int_equal(se_store_get(st, 8, &job, &pid, err, sizeof err), 1);
    assert_int_equal(se_store_get(st, 0, &job, &pid, err, sizeof err), 1);
    assert_int_equal(se_store_get(st, -3, &job, &pid, err, sizeof err), 1);

    /* Only the record itself in jobs/: no temporary file left. */
    char *jobs = fmt_path("%s/jobs", dir);
    assert_int_equal(count_entries(jobs), 1);
    free(jobs);
    free(path);
    se_store_free(st);
}

/* Rewrites key of record id's file with value (JSON text). */
static void patch_record(const char *dir, int64_t id, const char *key, const char *value)
{
    char *path = fmt_path("%s/jobs/%lld.json", dir, (long long)id);
    char *text = read_text(path);
    json_object *rec = json_tokener_parse(text);
    assert_non_null(rec);
    json_object_object_add(rec, key, json_tokener_parse(value));
    write_text(path, json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
    json_object_put(rec);
    free(text);
    free(path);
}

/* A live worker is told from a pid reused by another process (another start
 * time) and from one recorded before the machine restarted (another boot id). */
static void test_worker_liveness(void **state)
{
    const char *dir = *state;
    char err[512];
    se_store *st = open_store(dir, "org@AdobeOrg", "prod");
    json_object *job = NULL;
    pid_t pid = -1;

    put_job(st, 9, getpid(), "{\"id\":9,\"status\":\"PROCESSING\"}");
    char *path = fmt_path("%s/jobs/9.json", dir);
    char *text = read_text(path);
    if (access("/proc/sys/kernel/random/boot_id", R_OK) == 0)
        assert_non_null(strstr(text, "\"bootId\":\""));
    free(text);
    free(path);
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, getpid());
    json_object_put(job);

    patch_record(dir, 9, "bootId", "\"00000000-0000-0000-0000-000000000000\"");
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, 0);
    json_object_put(job);

    put_job(st, 9, getpid(), "{\"id\":9,\"status\":\"PROCESSING\"}");
    patch_record(dir, 9, "pidStart", "1");
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, 0);
    json_object_put(job);

    /* A record without pidStart (older, or crafted): a pid alone proves
     * nothing, the record has no worker - even though pid 1 and this
     * process are alive - and no signal is sent. */
    char *p2 = fmt_path("%s/jobs/9.json", dir);
    write_text(p2, "{\"format\":1,\"org\":\"org@AdobeOrg\",\"sandbox\":\"prod\",\"pid\":1,\"job\":{\"id\":9}}");
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, 0);
    json_object_put(job);
    assert_int_equal(se_store_signal(st, 9, 0, err, sizeof err), 1);
    char *rec = fmt_path("{\"format\":1,\"org\":\"org@AdobeOrg\",\"sandbox\":\"prod\",\"pid\":%d,"
                         "\"pidStart\":0,\"job\":{\"id\":9}}", (int)getpid());
    write_text(p2, rec);
    free(rec);
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 0);
    assert_int_equal(pid, 0);
    json_object_put(job);
    assert_int_equal(se_store_signal(st, 9, 0, err, sizeof err), 1);
    assert_int_equal(se_store_worker_alive(getpid(), 0), 0);
    /* The real thing (this process, its start time): signal 0 goes through. */
    put_job(st, 9, getpid(), "{\"id\":9,\"status\":\"PROCESSING\"}");
    assert_int_equal(se_store_signal(st, 9, 0, err, sizeof err), 0);
    free(p2);
    se_store_free(st);
}

static void test_deep_job(void **state)
{
    const char *dir = *state;
    char err[512];
    char text[256] = "";
    se_store *st = open_store(dir, "o", "s");
    json_object *job = NULL;
    pid_t pid;

    /* 32 levels: as deep as json-c's default parser accepts for a job. */
    for (int i = 0; i < 31; i++)
        strcat(text, "{\"a\":");
    strcat(text, "{}");
    for (int i = 0; i < 31; i++)
        strcat(text, "}");
    put_job(st, 1, 0, text);
    assert_int_equal(se_store_get(st, 1, &job, &pid, err, sizeof err), 0);
    json_object_put(job);
    se_store_free(st);
}

static void test_scope(void **state)
{
    const char *dir = *state;
    char err[512];
    se_store *mine = open_store(dir, "o1", "prod");
    se_store *other_org = open_store(dir, "o2", "prod");
    se_store *other_sb = open_store(dir, "o1", "dev");
    json_object *job = NULL;
    pid_t pid;

    put_job(mine, 1, 0, "{\"id\":1}");
    assert_int_equal(se_store_get(other_org, 1, &job, &pid, err, sizeof err), 1);
    assert_int_equal(se_store_get(other_sb, 1, &job, &pid, err, sizeof err), 1);
    assert_null(job);
    assert_int_equal(se_store_remove(other_org, 1, err, sizeof err), 1);
    assert_int_equal(se_store_remove(other_sb, 1, err, sizeof err), 1);
    assert_int_equal(se_store_get(mine, 1, &job, &pid, err, sizeof err), 0);
    json_object_put(job);
    se_store_free(mine);
    se_store_free(other_org);
    se_store_free(other_sb);
}

/* rc: -1 for a damaged record whose scope (this one) can still be read, 2 for
 * one whose scope cannot: nobody's, kept for removal by hand. */
static void expect_damage(se_store *st, const char *dir, const char *content, const char *why, int rc)
{
    char err[512];
    json_object *job = NULL;
    pid_t pid;
    char *path = fmt_path("%s/jobs/9.json", dir);
    char *want = fmt_path("%s/jobs/9.json: %s", dir, why);

    write_text(path, content);
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), rc);
    assert_null(job);
    assert_string_equal(err, want);
    if (rc == 2) {
        assert_int_equal(se_store_remove(st, 9, err, sizeof err), 2);
        assert_int_equal(access(path, F_OK), 0);
        assert_int_equal(unlink(path), 0);
    } else if (strstr(why, "unsupported")) {
        /* Kept: a newer version may read it, and its scope is unknown. */
        assert_int_equal(se_store_remove(st, 9, err, sizeof err), -1);
        assert_string_equal(err, want);
        assert_int_equal(access(path, F_OK), 0);
    } else {
        /* A damaged record can be removed (cancel relies on this). */
        assert_int_equal(se_store_remove(st, 9, err, sizeof err), 0);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(se_store_remove(st, 9, err, sizeof err), 1);
    }
    free(want);
    free(path);
}

static void test_damaged(void **state)
{
    const char *dir = *state;
    se_store *st = open_store(dir, "o", "s");
    char *path = fmt_path("%s/jobs/9.json", dir);

    put_job(st, 9, 1, "{\"id\":9,\"status\":\"PROCESSING\"}");
    /* Truncate the real record mid-way. */
    char *text = read_text(path);
    text[strlen(text) / 2] = '\0';
    /* Another scope does not see it (its scope is still readable). */
    char err[512];
    json_object *job = NULL;
    pid_t pid;
    se_store *other = open_store(dir, "o2", "s");
    write_text(path, text);
    assert_int_equal(se_store_get(other, 9, &job, &pid, err, sizeof err), 1);
    assert_int_equal(se_store_remove(other, 9, err, sizeof err), 1);
    assert_int_equal(access(path, F_OK), 0);
    se_store_free(other);
    expect_damage(st, dir, text, "damaged job record (truncated)", -1);
    /* Cut inside the sandbox: no scope to read. */
    text[strstr(text, "\"sandbox\":\"") - text + 12] = '\0';
    expect_damage(st, dir, text, "damaged job record (truncated)", 2);
    free(text);

    expect_damage(st, dir, "", "damaged job record (empty file)", 2);
    expect_damage(st, dir, "[1,2]", "damaged job record (not a JSON object)", 2);
    expect_damage(st, dir, "{\"format\":1} x", "damaged job record (trailing data after the record)", 2);
    expect_damage(st, dir, "{\"format\":1,\"org\":\"o\",\"sandbox\":\"s\"} x",
                  "damaged job record (trailing data after the record)", -1);
    expect_damage(st, dir, "{\"org\":\"o\"}", "damaged job record (no format number)", 2);
    expect_damage(st, dir, "{\"org\":\"o\",\"sandbox\":\"s\"}", "damaged job record (no format number)", -1);
    expect_damage(st, dir, "{\"format\":1,\"org\":\"o\",\"sandbox\":\"s\",\"pid\":1}",
                  "damaged job record (no job object)", -1);
    expect_damage(st, dir, "{\"format\":1,\"org\":\"o\",\"sandbox\":\"s\",\"job\":{}}",
                  "damaged job record (no valid pid)", -1);
    expect_damage(st, dir, "{\"format\":1,\"sandbox\":\"s\",\"pid\":1,\"job\":{}}",
                  "damaged job record (no org or sandbox)", 2);
    expect_damage(st, dir, "{\"format\":2,\"org\":\"o\",\"sandbox\":\"s\",\"pid\":1,\"job\":{}}",
                  "job record written by an unsupported segexport version (format 2)", -1);
    expect_damage(st, dir, "{\"format\":2}",
                  "job record written by an unsupported segexport version (format 2)", 2);

    /* A malformed (not truncated) record: the tokenizer's reason. */
    write_text(path, "{\"format\":1,\"org\":\"o\",\"sandbox\":\"s\",]");
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), -1);
    assert_non_null(strstr(err, "/jobs/9.json: damaged job record ("));

    /* Not a regular file: a directory, a FIFO (never waited on), a link
     * (never followed): nobody's. */
    char *want = fmt_path("%s: damaged job record (not a regular file)", path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 2);
    assert_string_equal(err, want);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 2);
    assert_string_equal(err, want);
    assert_int_equal(unlink(path), 0);
    free(want);
    char *target = fmt_path("%s/elsewhere.json", dir);
    put_job(st, 8, 0, "{\"id\":8}");
    char *p8 = fmt_path("%s/jobs/8.json", dir);
    assert_int_equal(rename(p8, target), 0);
    assert_int_equal(symlink(target, path), 0);
    want = fmt_path("%s: damaged job record (a symbolic link, not followed)", path);
    assert_int_equal(se_store_get(st, 9, &job, &pid, err, sizeof err), 2);
    assert_string_equal(err, want);
    assert_int_equal(se_store_remove(st, 9, err, sizeof err), 2);
    /* put replaces the link itself, never writes through it */
    char *before = read_text(target);
    put_job(st, 9, 0, "{\"id\":9}");
    char *after = read_text(target);
    assert_string_equal(before, after);
    struct stat lsb;
    assert_int_equal(lstat(path, &lsb), 0);
    assert_true(S_ISREG(lsb.st_mode));
    free(before);
    free(after);
    free(want);
    free(p8);
    free(target);
    free(path);
    se_store_free(st);
}

static void test_remove(void **state)
{
    const char *dir = *state;
    char err[512];
    se_store *st = open_store(dir, "o", "s");
    json_object *job = NULL;
    pid_t pid;

    put_job(st, 3, 0, "{\"id\":3}");
    assert_int_equal(se_store_remove(st, 3, err, sizeof err), 0);
    assert_int_equal(se_store_get(st, 3, &job, &pid, err, sizeof err), 1);
    assert_int_equal(se_store_remove(st, 3, err, sizeof err), 1);
    assert_int_equal(se_store_remove(st, 77, err, sizeof err), 1);
    se_store_free(st);
}

typedef struct collect {
    int64_t ids[16];
    size_t n;
    size_t stop_after;
} collect;

static int collect_fn(int64_t id, void *ctx)
{
    collect *c = ctx;
    c->ids[c->n++] = id;
    return c->stop_after && c->n == c->stop_after ? 99 : 0;
}

static void test_each_id(void **state)
{
    const char *dir = *state;
    se_store *st = open_store(dir, "o", "s");
    se_store *other = open_store(dir, "x", "y");
    collect c = { .n = 0 };

    assert_int_equal(se_store_each_id(st, collect_fn, &c), 0);
    assert_int_equal(c.n, 0);

    put_job(st, 2, 0, "{}");
    put_job(other, 10, 0, "{}"); /* any scope */
    put_job(st, 1, 0, "{}");
    /* Names that are not job records. */
    const char *junk[] = { ".2.json.tmp-123", "x.json", "007.json", "5.json.bak", ".json", "12" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        char *p = fmt_path("%s/jobs/%s", dir, junk[i]);
        write_text(p, "{}");
        free(p);
    }
    assert_int_equal(se_store_each_id(st, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.ids[0], 1);
    assert_int_equal(c.ids[1], 2);
    assert_int_equal(c.ids[2], 10);

    collect s = { .n = 0, .stop_after = 2 };
    assert_int_equal(se_store_each_id(st, collect_fn, &s), 99);
    assert_int_equal(s.n, 2);

    /* Unreadable jobs directory. */
    char *jobs = fmt_path("%s/jobs", dir);
    char *moved = fmt_path("%s/jobs.moved", dir);
    assert_int_equal(rename(jobs, moved), 0);
    assert_int_equal(se_store_each_id(st, collect_fn, &c), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(rename(moved, jobs), 0);
    free(jobs);
    free(moved);
    se_store_free(st);
    se_store_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_ids_sequential, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_counter_recovers_from_records, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_ids_concurrent, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_put_get, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_worker_liveness, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_deep_job, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_scope, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_damaged, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_remove, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_each_id, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

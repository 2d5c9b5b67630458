/* Unit tests for src/pgzip.c: multi-member gzip on several cores — the bytes
 * do not depend on the number of threads, the stream reads back whole
 * (member after member), empty input is still a gzip file, write errors are
 * reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "pgzip.h"

/* Compresses n bytes of p with threads, feeding it in pieces of step; returns
 * the gzip bytes (malloc'd) and their length. */
static unsigned char *pgz(const unsigned char *p, size_t n, int threads, size_t step, size_t *outlen)
{
    char path[] = "/tmp/test_pgzip.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    se_pgz *z = se_pgz_new(fd, 6, threads);
    assert_non_null(z);
    for (size_t off = 0; off < n; off += step)
        assert_int_equal(se_pgz_write(z, p + off, n - off < step ? n - off : step), 0);
    assert_int_equal(se_pgz_finish(z), 0);
    se_pgz_free(z);
    off_t len = lseek(fd, 0, SEEK_END);
    unsigned char *out = malloc((size_t)len + 1);
    assert_int_equal(pread(fd, out, (size_t)len, 0), len);
    close(fd);
    *outlen = (size_t)len;
    return out;
}

/* Inflates every member; returns the bytes and how many members there were. */
static unsigned char *gunzip(const unsigned char *g, size_t n, size_t *outlen, int *members)
{
    size_t cap = 16u << 20, len = 0;
    unsigned char *out = malloc(cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (unsigned char *)g;
    zs.avail_in = (uInt)n;
    *members = 0;
    while (zs.avail_in > 0) {
        zs.next_out = out + len;
        zs.avail_out = (uInt)(cap - len);
        int r = inflate(&zs, Z_NO_FLUSH);
        len = cap - zs.avail_out;
        if (r == Z_STREAM_END) {
            (*members)++;
            assert_int_equal(inflateReset(&zs), Z_OK);
        } else {
            assert_int_equal(r, Z_OK);
        }
    }
    inflateEnd(&zs);
    *outlen = len;
    return out;
}

static void test_threads_same_bytes(void **state)
{
    (void)state;
    size_t n = (3u << 20) + 12345; /* three full blocks and a bit */
    unsigned char *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)("{\"name\":\"row\",\"n\":12345}\n"[i % 25] + (i / 1000) % 3);
    size_t l1, l2, l3, back;
    unsigned char *a = pgz(p, n, 1, n, &l1);
    unsigned char *b = pgz(p, n, 2, 7777, &l2);
    unsigned char *c = pgz(p, n, 5, 1u << 20, &l3);
    assert_int_equal(l1, l2);
    assert_int_equal(l1, l3);
    assert_memory_equal(a, b, l1);
    assert_memory_equal(a, c, l1);
    int members;
    unsigned char *d = gunzip(a, l1, &back, &members);
    assert_int_equal(back, n);
    assert_memory_equal(d, p, n);
    assert_int_equal(members, 4);
    free(a); free(b); free(c); free(d); free(p);
}

static void test_empty(void **state)
{
    (void)state;
    size_t l, back;
    int members;
    unsigned char *a = pgz((const unsigned char *)"", 0, 2, 1, &l);
    assert_true(l >= 18 && a[0] == 0x1f && a[1] == 0x8b);
    unsigned char *d = gunzip(a, l, &back, &members);
    assert_int_equal(back, 0);
    assert_int_equal(members, 1);
    free(a); free(d);
}

static void test_write_error(void **state)
{
    (void)state;
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    close(fd[0]); /* writes fail: EPIPE (SIGPIPE ignored below) */
    signal(SIGPIPE, SIG_IGN);
    se_pgz *z = se_pgz_new(fd[1], 1, 2);
    unsigned char *p = calloc(1, 3u << 20);
    int r = se_pgz_write(z, p, 3u << 20);
    if (r == 0)
        r = se_pgz_finish(z);
    assert_int_equal(r, -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(se_pgz_finish(z), -1); /* stays failed */
    se_pgz_free(z);
    free(p);
    close(fd[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_same_bytes),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

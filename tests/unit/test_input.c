/* Unit tests for src/io/input.c: compression and archive detection, line
 * splitting, line numbers, limits, errors.  Fixtures are made at test time
 * in a temporary directory with the usual command-line tools. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

static char dir[64];

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[2200];
    snprintf(full, sizeof full, "cd '%s' && %s", dir, cmd);
    int rc = system(full);
    if (rc != 0)
        fail_msg("command failed (%d): %s", rc, cmd);
}

/* The path of a fixture; valid until the 8th next call. */
static char *at(const char *name)
{
    static char bufs[8][256];
    static int i;
    char *b = bufs[i++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void put(const char *name, const char *data, size_t n)
{
    FILE *f = fopen(at(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void puts0(const char *name, const char *s)
{
    put(name, s, strlen(s));
}

/* Grows a string buffer. */
typedef struct { char *s; size_t n, cap; } sbuf;

static void sb_add(sbuf *b, const char *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* Reads every line as "NAME|LINENO|DATA\n" (DATA "!" for too-long lines), with
 * the fixture directory cut from names.  *rc gets the final return value and
 * err the error message. */
static char *read_all(char *const *paths, size_t n, size_t max, int *rc, char *err, size_t errlen)
{
    se_input *in = se_input_open(paths, n, max);
    assert_non_null(in);
    sbuf b = {0};
    sb_add(&b, "", 0);
    se_line line;
    int r;
    while ((r = se_input_next(in, &line)) == 1) {
        const char *name = line.name;
        size_t dl = strlen(dir);
        if (strncmp(name, dir, dl) == 0 && name[dl] == '/')
            name += dl + 1;
        char head[512];
        int hn = snprintf(head, sizeof head, "%s|%llu|", name, (unsigned long long)line.lineno);
        sb_add(&b, head, (size_t)hn);
        if (line.too_long) {
            assert_int_equal(line.len, 0);
            sb_add(&b, "!", 1);
        } else {
            assert_true(line.len > 0);
            sb_add(&b, line.data, line.len);
        }
        sb_add(&b, "\n", 1);
    }
    *rc = r;
    if (err != NULL)
        snprintf(err, errlen, "%s", r < 0 ? se_input_error(in) : "");
    if (r < 0)
        assert_int_equal(se_input_next(in, &line), -1); /* stays failed */
    else
        assert_int_equal(se_input_next(in, &line), 0); /* stays at the end */
    se_input_free(in);
    return b.s;
}

static void expect(char *const *paths, size_t n, size_t max, const char *want)
{
    int rc;
    char *got = read_all(paths, n, max, &rc, NULL, 0);
    assert_int_equal(rc, 0);
    assert_string_equal(got, want);
    free(got);
}

static void expect1(const char *name, const char *want)
{
    char *p = at(name);
    expect(&p, 1, 1 << 20, want);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_input.XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* BOM, CRLF, blank and whitespace-only lines, last line without LF. */
static const char SAMPLE[] =
    "\xEF\xBB\xBF{\"a\":1}\r\n"
    "\r\n"
    "  \t \n"
    "{\"b\":2}\n"
    "\n"
    " {\"c\": 3} \r\n"
    "{\"d\":\"\xEF\xBB\xBF\"}";

static void test_plain(void **state)
{
    (void)state;
    puts0("s.json", SAMPLE);
    expect1("s.json",
            "s.json|1|{\"a\":1}\n"
            "s.json|4|{\"b\":2}\n"
            "s.json|6| {\"c\": 3} \n"
            "s.json|7|{\"d\":\"\xEF\xBB\xBF\"}\n");
}

static void test_compressed(void **state)
{
    (void)state;
    puts0("c.json", SAMPLE);
    static const char *const tools[][2] = {
        {"gzip -c", "gz"}, {"zstd -q -c", "zst"}, {"xz -c", "xz"},
        {"bzip2 -c", "bz2"}, {"lz4 -q -c", "lz4"},
    };
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        char name[64], want[512];
        snprintf(name, sizeof name, "c.json.%s", tools[i][1]);
        sh("%s c.json > %s", tools[i][0], name);
        snprintf(want, sizeof want,
                 "%1$s|1|{\"a\":1}\n%1$s|4|{\"b\":2}\n%1$s|6| {\"c\": 3} \n"
                 "%1$s|7|{\"d\":\"\xEF\xBB\xBF\"}\n", name);
        expect1(name, want);
    }
}

static void test_archives(void **state)
{
    (void)state;
    sh("mkdir -p t/sub && printf '{\"m\":1}\\n{\"m\":2}' > t/a.json"
       " && printf '\\357\\273\\277{\"g\":1}\\r\\n\\n{\"g\":2}\\n' > t/g.json && gzip t/g.json"
       " && : > t/empty.json && printf '{\"s\":1}\\n' > t/sub/c.json && ln -s a.json t/link.json"
       " && printf '{\"z\":1}\\n' | zstd -q -c > t/z.json.zst");
    const char *members = "a.json g.json.gz empty.json sub link.json z.json.zst";
    sh("cd t && bsdtar -cf ../x.tar %s && bsdtar -czf ../x.tgz %s && bsdtar --format zip -cf ../x.zip %s",
       members, members, members);
    static const char *const names[] = {"x.tar", "x.tgz", "x.zip"};
    for (size_t i = 0; i < 3; i++) {
        char want[1024];
        snprintf(want, sizeof want,
                 "%1$s:a.json|1|{\"m\":1}\n%1$s:a.json|2|{\"m\":2}\n"
                 "%1$s:g.json.gz|1|{\"g\":1}\n%1$s:g.json.gz|3|{\"g\":2}\n"
                 "%1$s:sub/c.json|1|{\"s\":1}\n"
                 "%1$s:z.json.zst|1|{\"z\":1}\n", names[i]);
        expect1(names[i], want);
    }
}

static void test_multiple_paths(void **state)
{
    (void)state;
    puts0("m1.json", "{\"a\":1}\n{\"a\":2}\n");
    puts0("m2.json", "");
    puts0("m3.json", "\n{\"b\":1}");
    sh("printf '{\"c\":1}\\n' > m4.json && gzip m4.json");
    char *paths[] = {at("m1.json"), at("m2.json"), at("m3.json"), at("m4.json.gz")};
    expect(paths, 4, 100,
           "m1.json|1|{\"a\":1}\nm1.json|2|{\"a\":2}\nm3.json|2|{\"b\":1}\nm4.json.gz|1|{\"c\":1}\n");
}

static void test_empty(void **state)
{
    (void)state;
    puts0("e.json", "");
    expect1("e.json", "");
    puts0("blank.json", "\n \r\n\t\n");
    expect1("blank.json", "");
    sh(": | gzip -c > e.json.gz");
    expect1("e.json.gz", "");
}

static void test_too_long(void **state)
{
    (void)state;
    /* the limit is exclusive of the CR and the BOM */
    puts0("l.json", "\xEF\xBB\xBF" "0123456789\r\n01234567890\nok\n0123456789ABCDEF\r\n\nlast67890ab");
    char *p = at("l.json");
    expect(&p, 1, 10, "l.json|1|0123456789\nl.json|2|!\nl.json|3|ok\nl.json|4|!\nl.json|6|!\n");
}

/* Lines that span read blocks, and too-long lines far bigger than a block. */
static void test_big(void **state)
{
    (void)state;
    size_t total = 5u << 20, n = 0, lines = 0;
    char *data = malloc(total + 2048);
    assert_non_null(data);
    while (n < total) {
        size_t len = 1 + (lines * 7919) % 1500;
        for (size_t i = 0; i < len; i++)
            data[n + i] = (char)('a' + (lines + i) % 26);
        n += len;
        data[n++] = '\n';
        lines++;
    }
    put("big.json", data, n);
    sh("gzip -1 -c big.json > big.json.gz");
    for (int z = 0; z < 2; z++) {
        se_input *in = se_input_open((char *[]){at(z ? "big.json.gz" : "big.json")}, 1, 1500);
        assert_non_null(in);
        se_line line;
        size_t off = 0;
        uint64_t k = 0;
        while (se_input_next(in, &line) == 1) {
            k++;
            assert_int_equal(line.lineno, k);
            assert_false(line.too_long);
            assert_memory_equal(line.data, data + off, line.len);
            off += line.len;
            assert_int_equal(data[off], '\n');
            off++;
        }
        assert_int_equal(k, lines);
        assert_int_equal(off, n);
        if (!z)
            assert_int_equal(se_input_bytes(in), n);
        else
            assert_true(se_input_bytes(in) > 0);
        se_input_free(in);
    }

    /* a 3 MiB line, then normal lines, with a 1 MiB limit */
    memset(data, 'x', 3u << 20);
    memcpy(data + (3u << 20), "\nok\nyes", 7);
    put("huge.json", data, (3u << 20) + 7);
    sh("gzip -c huge.json > huge.json.gz && head -c 2000000 huge.json > huge2.json");
    char *paths[] = {at("huge.json"), at("huge.json.gz"), at("huge2.json")};
    expect(paths, 3, 1u << 20,
           "huge.json|1|!\nhuge.json|2|ok\nhuge.json|3|yes\n"
           "huge.json.gz|1|!\nhuge.json.gz|2|ok\nhuge.json.gz|3|yes\n"
           "huge2.json|1|!\n");
    free(data);
}

static void test_truncated(void **state)
{
    (void)state;
    sh("seq 1 200000 | sed 's/.*/{\"n\":&}/' | gzip -c > full.json.gz"
       " && head -c 100000 full.json.gz > cut.json.gz");
    char *paths[] = {at("cut.json.gz")};
    int rc;
    char err[512];
    char *got = read_all(paths, 1, 100, &rc, err, sizeof err);
    assert_int_equal(rc, -1);
    char want[256];
    snprintf(want, sizeof want, "%s: ", at("cut.json.gz"));
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    assert_true(strlen(err) > strlen(want));
    assert_true(strlen(got) > 0); /* lines before the damage came through */
    free(got);

    /* a damaged member names the archive and the member */
    sh("mkdir -p tr && cp cut.json.gz tr/ && cd tr && bsdtar -cf ../tr.tar cut.json.gz");
    paths[0] = at("tr.tar");
    got = read_all(paths, 1, 100, &rc, err, sizeof err);
    assert_int_equal(rc, -1);
    snprintf(want, sizeof want, "%s:cut.json.gz: ", at("tr.tar"));
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    free(got);

    /* a path that vanished between the check and the read */
    paths[0] = at("gone.json");
    got = read_all(paths, 1, 100, &rc, err, sizeof err);
    assert_int_equal(rc, -1);
    snprintf(want, sizeof want, "%s: No such file or directory", at("gone.json"));
    assert_string_equal(err, want);
    free(got);
}

static void test_check_paths(void **state)
{
    (void)state;
    puts0("ok.json", "{}\n");
    char err[512];
    char *good[] = {at("ok.json"), "-"};
    assert_int_equal(se_input_check_paths(good, 2, err, sizeof err), 0);

    char *missing[] = {at("ok.json"), at("nope.json")};
    assert_int_equal(se_input_check_paths(missing, 2, err, sizeof err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: No such file or directory", at("nope.json"));
    assert_string_equal(err, want);

    char *isdir[] = {dir};
    assert_int_equal(se_input_check_paths(isdir, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: Is a directory", dir);
    assert_string_equal(err, want);

    assert_int_equal(se_input_check_paths(NULL, 0, err, sizeof err), 0);
}

/* Reads name through fd 0, as "-" and as "no INPUT". */
static void check_stdin(const char *name, bool as_dash, const char *want)
{
    int saved = dup(0);
    assert_true(saved >= 0);
    int fd = open(at(name), O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 0), 0);
    close(fd);
    char *paths[] = {"-"};
    expect(paths, as_dash ? 1 : 0, 100, want);
    /* fd 0 is still open */
    struct stat st;
    assert_int_equal(fstat(0, &st), 0);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
}

static void test_stdin(void **state)
{
    (void)state;
    puts0("in.json", "{\"a\":1}\r\n\n{\"a\":2}");
    sh("gzip -c in.json > in.json.gz && mkdir -p zs && cp in.json zs/ && cd zs && "
       "bsdtar --format zip -cf ../in.zip in.json");
    check_stdin("in.json", true, "stdin|1|{\"a\":1}\nstdin|3|{\"a\":2}\n");
    check_stdin("in.json.gz", false, "stdin|1|{\"a\":1}\nstdin|3|{\"a\":2}\n");
    check_stdin("in.zip", true, "stdin:in.json|1|{\"a\":1}\nstdin:in.json|3|{\"a\":2}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_compressed),
        cmocka_unit_test(test_archives),
        cmocka_unit_test(test_multiple_paths),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_big),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_check_paths),
        cmocka_unit_test(test_stdin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests for src/io/pipeline.c: the reader cuts lines where they lie in
 * its chunks, so it is checked against se_input_next (the line reader of
 * test_input.c) on generated inputs full of edges: lines across chunk
 * boundaries, longer than a chunk, exactly at the limit, too long, CRLF, a
 * BOM, blank lines, no LF at the end; plain (read directly), gzip (through
 * libarchive), several INPUTs, stdin from mid-file; chunk sizes from 7 bytes
 * to the default.  Plus read errors and in_pos. */
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
#include "pipeline.h"

static char dir[64];

static char *at(const char *name)
{
    static char bufs[8][256];
    static int i;
    char *b = bufs[i++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

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

static void sb_line(sbuf *b, const char *name, uint64_t lineno, bool too_long,
                    const char *d, size_t n)
{
    char head[512];
    int hn = snprintf(head, sizeof head, "%s|%llu|", name, (unsigned long long)lineno);
    sb_add(b, head, (size_t)hn);
    if (too_long) {
        assert_int_equal(n, 0);
        sb_add(b, "!", 1);
    } else {
        assert_true(n > 0);
        sb_add(b, d, n);
    }
    sb_add(b, "\n", 1);
}

/* Every line by se_input_next, then "END rc error". */
static char *by_lines(char *const *paths, size_t n, size_t max)
{
    se_input *in = se_input_open(paths, n, max);
    assert_non_null(in);
    sbuf b = {0};
    sb_add(&b, "", 0);
    se_line ln;
    int r;
    while ((r = se_input_next(in, &ln)) == 1)
        sb_line(&b, ln.name, ln.lineno, ln.too_long, ln.data, ln.len);
    char tail[1200];
    snprintf(tail, sizeof tail, "END %d %s\n", r, r < 0 ? se_input_error(in) : "");
    sb_add(&b, tail, strlen(tail));
    se_input_free(in);
    return b.s;
}

static int no_prep(void *ud, se_chunk *ch)
{
    __atomic_fetch_add((size_t *)ud, 1, __ATOMIC_RELAXED); /* on either thread */
    for (size_t i = 0; i < ch->nlines; i++)
        ch->lines[i].h = ch->lines[i].lineno; /* prep may write its fields */
    return 0;
}

/* The same by the pipeline, chunk by chunk; in_pos never goes back and ends
 * at *in_pos. */
static char *by_chunks(char *const *paths, size_t n, size_t max, size_t chunk, uint64_t *in_pos)
{
    size_t preps = 0, chunks = 0;
    se_pipe_chunk_bytes = chunk;
    se_pipe *p = se_pipe_start(paths, n, max, no_prep, NULL, &preps);
    se_pipe_chunk_bytes = 1 << 17;
    assert_non_null(p);
    sbuf b = {0};
    sb_add(&b, "", 0);
    uint64_t pos = 0;
    for (;;) {
        se_chunk *ch = se_pipe_next(p);
        assert_true(ch->in_pos >= pos || ch->status < 0);
        pos = ch->in_pos;
        if (ch->status <= 0) {
            char tail[1200];
            snprintf(tail, sizeof tail, "END %d %s\n", ch->status, ch->status < 0 ? ch->err : "");
            sb_add(&b, tail, strlen(tail));
            break;
        }
        chunks++;
        assert_true(ch->nlines > 0);
        for (size_t i = 0; i < ch->nlines; i++) {
            const se_pline *pl = &ch->lines[i];
            assert_int_equal(pl->h, pl->lineno);
            sb_line(&b, ch->name, pl->lineno, pl->too_long, ch->data + pl->off, pl->len);
        }
    }
    assert_int_equal(__atomic_load_n(&preps, __ATOMIC_RELAXED), chunks); /* each chunk prepared once */
    if (in_pos)
        *in_pos = pos;
    se_pipe_free(p);
    return b.s;
}

static void same(char *const *paths, size_t n, size_t max, size_t chunk)
{
    char *want = by_lines(paths, n, max);
    char *got = by_chunks(paths, n, max, chunk, NULL);
    if (strcmp(want, got) != 0) {
        size_t i = 0;
        while (want[i] == got[i])
            i++;
        size_t from = i > 200 ? i - 200 : 0;
        fail_msg("max %zu, chunk %zu: the pipeline differs at byte %zu:\nwant ...%.300s\ngot  ...%.300s",
                 max, chunk, i, want + from, got + from);
    }
    free(want);
    free(got);
}

static uint64_t rs = 1;

static unsigned rnd(unsigned n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (unsigned)(rs % n);
}

/* A dump of about bytes bytes with every kind of line, around max. */
static void gen(const char *name, size_t bytes, size_t max, bool bom, bool last_lf)
{
    FILE *f = fopen(at(name), "wb");
    assert_non_null(f);
    size_t n = 0;
    if (bom)
        n += fwrite("\xEF\xBB\xBF", 1, 3, f);
    while (n < bytes) {
        size_t len;
        switch (rnd(12)) {
        case 0: len = 0; break;                       /* empty */
        case 1: len = max; break;                     /* exactly the limit */
        case 2: len = max + 1; break;                 /* one too long */
        case 3: len = max + rnd(3 * (unsigned)max + 2); break;
        case 4: len = 1 + rnd(5000); break;
        default: len = 1 + rnd(300); break;
        }
        int kind = rnd(10);
        for (size_t i = 0; i < len; i++) {
            int c = kind == 0 ? " \t\r"[rnd(3)] : (int)('a' + rnd(26)); /* blank or not */
            if (i == 0 && kind != 0)
                c = '{';
            fputc(c, f);
        }
        n += len;
        if (rnd(4) == 0) {
            fputc('\r', f); /* CRLF (or a CR more, when the line is at the limit) */
            n++;
        }
        if (n < bytes || last_lf) {
            fputc('\n', f);
            n++;
        }
    }
    assert_int_equal(fclose(f), 0);
}

static const size_t CHUNKS[] = { 7, 64, 100, 1000, 4096, 65536, 1 << 17 };
enum { NCHUNKS = sizeof CHUNKS / sizeof CHUNKS[0] };

static void test_plain(void **state)
{
    (void)state;
    static const size_t maxes[] = { 5, 100, 3000, 16777216 };
    for (size_t m = 0; m < 4; m++)
        for (int v = 0; v < 4; v++) {
            rs = 1 + m * 16 + (unsigned)v;
            gen("d.json", v < 2 ? 50000 : 400000, maxes[m] > 100000 ? 2000 : maxes[m], v & 1, v & 2);
            char *p = at("d.json");
            for (size_t c = 0; c < NCHUNKS; c++)
                if (v < 2 || CHUNKS[c] >= 1000)
                    same(&p, 1, maxes[m], CHUNKS[c]);
        }
}

/* Through libarchive (copied from its blocks), several INPUTs and members. */
static void test_compressed_multi(void **state)
{
    (void)state;
    rs = 99;
    gen("a.json", 300000, 700, true, false);
    gen("b.json", 200000, 700, false, true);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && gzip -c a.json > a.json.gz && touch empty.json && "
             "tar cf ab.tar a.json b.json", dir);
    assert_int_equal(system(cmd), 0);
    char *paths[] = { at("a.json.gz"), at("empty.json"), at("b.json"), at("ab.tar"), at("a.json") };
    for (size_t c = 0; c < NCHUNKS; c++) {
        same(paths, 5, 700, CHUNKS[c]);
        same(paths, 5, 16777216, CHUNKS[c]);
    }
}

/* A line longer than any chunk, held whole; and one past the limit. */
static void test_long_line(void **state)
{
    (void)state;
    FILE *f = fopen(at("long.json"), "wb");
    assert_non_null(f);
    fputs("{\"a\":1}\n{", f);
    for (int i = 0; i < 600000; i++)
        fputc('x', f);
    fputs("}\r\n{\"b\":2}\n{", f);
    for (int i = 0; i < 300000; i++)
        fputc('y', f);
    fputs("}", f);
    assert_int_equal(fclose(f), 0);
    char *p = at("long.json");
    for (size_t c = 0; c < NCHUNKS; c++) {
        same(&p, 1, 16777216, CHUNKS[c]);
        same(&p, 1, 400000, CHUNKS[c]);
        same(&p, 1, 600002, CHUNKS[c]);
    }
    uint64_t pos;
    char *got = by_chunks(&p, 1, 400000, 1 << 17, &pos);
    assert_string_equal(got + strlen(got) - 7, "END 0 \n");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(pos, (uint64_t)st.st_size); /* in_pos ends at the input's size */
    free(got);
}

/* stdin: a regular file read from where its offset stands (read directly),
 * and a gzip one. */
static void test_stdin_mid_file(void **state)
{
    (void)state;
    rs = 7;
    gen("s.json", 200000, 500, false, false);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd '%s' && gzip -c s.json > s.json.gz", dir);
    assert_int_equal(system(cmd), 0);
    int saved = dup(0);
    assert_true(saved >= 0);
    static const char *const files[] = { "s.json", "s.json.gz" };
    for (int k = 0; k < 2; k++)
        for (size_t c = 3; c < NCHUNKS; c++) {
            char *out[2];
            for (int w = 0; w < 2; w++) {
                int fd = open(at(files[k]), O_RDONLY);
                assert_true(fd >= 0);
                assert_int_equal(dup2(fd, 0), 0);
                close(fd);
                if (k == 0)
                    assert_int_equal(lseek(0, 12345, SEEK_SET), 12345);
                out[w] = w == 0 ? by_lines(NULL, 0, 500) : by_chunks(NULL, 0, 500, CHUNKS[c], NULL);
            }
            assert_string_equal(out[0], out[1]);
            free(out[0]);
            free(out[1]);
        }
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
}

/* A damaged gzip stream and a missing INPUT: the lines before, then the
 * same error as se_input_next. */
static void test_errors(void **state)
{
    (void)state;
    rs = 5;
    gen("t.json", 300000, 500, false, true);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd '%s' && gzip -c t.json | head -c 20000 > t.json.gz", dir);
    assert_int_equal(system(cmd), 0);
    char *paths[] = { at("t.json"), at("t.json.gz") };
    char *missing[] = { at("t.json"), at("nope.json") };
    for (size_t c = 0; c < NCHUNKS; c++) {
        same(paths, 2, 500, CHUNKS[c]);
        same(missing, 2, 500, CHUNKS[c]);
    }
    char *got = by_chunks(paths, 2, 500, 1000, NULL);
    assert_non_null(strstr(got, "END -1 "));
    assert_non_null(strstr(got, "t.json.gz: truncated gzip input"));
    free(got);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_pipeline.XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_compressed_multi),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_stdin_mid_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

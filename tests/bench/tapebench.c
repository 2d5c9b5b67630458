/* Tape parser throughput: reads an NDJSON file into memory, then parses each
 * line with se_tape_parse REPS times (default 1) and prints the bytes parsed,
 * the records refused, and MB/s of CPU time spent parsing.  For callgrind and
 * hyperfine (REPS 0 measures the read alone); PATH picks se_tape_parse's path
 * (auto, avx2, sse2, scalar or ref; tape.h's se_tape_set_path):
 *   tapebench FILE [REPS] [PATH] */
#include "tape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tapebench FILE [REPS] [auto|avx2|sse2|scalar|ref]\n");
        return 2;
    }
    if (argc > 3) {
        static const char *const names[] = { "auto", "avx2", "sse2", "scalar", "ref" };
        int p = -1;
        for (int k = 0; k < 5; k++)
            if (strcmp(argv[3], names[k]) == 0)
                p = k;
        if (p < 0 || se_tape_set_path((se_tape_path)p) != 0) {
            fprintf(stderr, "tapebench: no path %s here\n", argv[3]);
            return 2;
        }
    }
    int reps = argc > 2 ? atoi(argv[2]) : 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1 << 20, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf)
        return 1;
    se_tape tp;
    se_tape_init(&tp);
    size_t bad = 0, toks = 0, bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (int k = 0; k < reps; k++) {
        for (size_t i = 0; i < n;) {
            char *nl = memchr(buf + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - buf) : n;
            int rc = se_tape_parse(&tp, buf + i, e - i);
            if (rc == SE_TAPE_NOMEM)
                return 1;
            bad += rc != SE_TAPE_OK;
            toks += tp.n;
            bytes += e - i;
            i = e + 1;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%zu bytes, %zu tokens, %zu refused, %.0f MB/s\n", bytes, toks, bad,
           s > 0 ? (double)bytes / s / 1e6 : 0.0);
    se_tape_free(&tp);
    free(buf);
    return 0;
}

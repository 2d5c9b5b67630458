/* Shared helpers of the fuzz targets (tests/fuzz/fuzz_*.c).  Each target
 * defines LLVMFuzzerTestOneInput; replay.c (gcc, `make check`) or libFuzzer
 * (clang, `make fuzz`) supplies main(). */
#ifndef SEGEXPORT_FUZZ_COMMON_H
#define SEGEXPORT_FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private scratch directory for the whole process, removed at exit. */
static char fz_dir[256];

__attribute__((unused)) static void fz_rm_dir(void)
{
    char cmd[300];
    if (fz_dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "fuzz: could not remove %s\n", fz_dir);
    }
}

__attribute__((unused)) static const char *fz_scratch(void)
{
    if (!fz_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fz_dir, sizeof fz_dir, "%s/segexport-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fz_dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fz_rm_dir);
        se_verbosity = -1; /* no warnings on stderr for every input */
    }
    return fz_dir;
}

__attribute__((unused)) static void fz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}
#endif

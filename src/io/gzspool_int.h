#ifndef SEGEXPORT_GZSPOOL_INT_H
#define SEGEXPORT_GZSPOOL_INT_H
/* Private to src/io: the segment compressors of gzspool.c (gzspool_codec.c):
 * raw deflate segments, whole zstd frames, whole xz streams. */
#include <lzma.h>
#include <stddef.h>
#include <zlib.h>
#include <zstd.h>

/* Scratch for a compressor's output, and a membuf's first size. */
#define SE_GZ_OUT (256u << 10)

/* Growable memory a worker compresses one buffer into. */
typedef struct membuf {
    unsigned char *p;
    size_t len, cap;
} membuf;

/* Where compressed bytes go: 0, or an errno. */
typedef int (*sink_fn)(void *ud, const unsigned char *p, size_t n);

/* A sink appending to a membuf (ud). */
int se_gz_to_mem(void *ud, const unsigned char *p, size_t n);

/* data[0..n) as one independent raw-deflate segment ending on a byte boundary
 * (Z_SYNC_FLUSH) or, with last, the end of the stream (Z_FINISH), through z
 * (initialized for level on first use: *zlevel -1), out[outlen] as scratch.
 * 0, or an errno. */
int se_gz_deflate_seg(z_stream *z, int *zlevel, int level, unsigned char *out, size_t outlen,
                      const void *data, size_t n, int last, sink_fn sink, void *ud);

/* data[0..n) as one whole zstd frame (*cc made on first use; tmp grows to the
 * output bound) or one whole xz stream (xs kept; out[outlen] as scratch).
 * 0, or an errno. */
int se_gz_zstd_seg(ZSTD_CCtx **cc, int level, const void *data, size_t n, sink_fn sink, void *ud,
                   membuf *tmp);
int se_gz_xz_seg(lzma_stream *xs, int level, const void *data, size_t n, sink_fn sink, void *ud,
                 unsigned char *out, size_t outlen);

#endif

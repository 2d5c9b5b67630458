/* The segment compressors of gzspool.c (see gzspool_int.h). */
#include "gzspool_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd_errors.h>

int se_gz_to_mem(void *ud, const unsigned char *p, size_t n)
{
    membuf *m = ud;
    if (n > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : SE_GZ_OUT;
        while (cap - m->len < n)
            cap *= 2;
        unsigned char *q = realloc(m->p, cap);
        if (!q)
            return ENOMEM;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

/* Deflates data[0..n) as one independent raw-deflate segment ending on a byte
 * boundary (Z_SYNC_FLUSH) or, with last, the end of the stream (Z_FINISH), and
 * hands the output to sink.  0, or an errno. */
int se_gz_deflate_seg(z_stream *z, int *zlevel, int level, unsigned char *out, size_t outlen,
                      const void *data, size_t n, int last, sink_fn sink, void *ud)
{
    if (*zlevel != level) {
        if (*zlevel != -1)
            deflateEnd(z);
        *zlevel = -1;
        memset(z, 0, sizeof *z);
        if (deflateInit2(z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return ENOMEM;
        *zlevel = level;
    } else if (deflateReset(z) != Z_OK) {
        return EINVAL;
    }
    const unsigned char *p = data;
    int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
    /* zlib counts in uInt: feed at most 1 GiB at a time. */
    do {
        size_t take = n > 0x40000000u ? 0x40000000u : n;
        z->next_in = (Bytef *)(uintptr_t)p;
        z->avail_in = (uInt)take;
        p += take;
        n -= take;
        int f = n ? Z_NO_FLUSH : flush;
        do {
            z->next_out = out;
            z->avail_out = (uInt)outlen;
            int rc = deflate(z, f);
            if (rc == Z_STREAM_ERROR)
                return EINVAL;
            size_t got = outlen - z->avail_out;
            if (got) {
                int e = sink(ud, out, got);
                if (e)
                    return e;
            }
        } while (z->avail_out == 0);
    } while (n);
    return 0;
}

/* data[0..n) as one whole zstd frame (content size and checksum in it) or
 * one whole xz stream (CRC64), in a context kept from segment to segment.
 * Concatenated, they are one valid .zst / .xz file (zstd, xz, GNU tar,
 * bsdtar, Python read them).  The output depends only on the bytes and the
 * level: zstd sizes its tables by the known input size, and xz's dictionary
 * is the preset's or, for less input, the smallest power of two that holds
 * it (a larger one could find nothing more) - so a small segment costs
 * little to start.  0, or an errno. */
int se_gz_zstd_seg(ZSTD_CCtx **cc, int level, const void *data, size_t n, sink_fn sink, void *ud,
                   membuf *tmp)
{
    if (!*cc && !(*cc = ZSTD_createCCtx()))
        return ENOMEM;
    ZSTD_CCtx_reset(*cc, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(*cc, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(*cc, ZSTD_c_checksumFlag, 1)))
        return EINVAL;
    size_t bound = ZSTD_compressBound(n);
    if (bound > tmp->cap) {
        unsigned char *q = realloc(tmp->p, bound);
        if (!q)
            return ENOMEM;
        tmp->p = q;
        tmp->cap = bound;
    }
    size_t got = ZSTD_compress2(*cc, tmp->p, tmp->cap, data, n);
    if (ZSTD_isError(got))
        return ZSTD_getErrorCode(got) == ZSTD_error_memory_allocation ? ENOMEM : EINVAL;
    return sink(ud, tmp->p, got);
}

int se_gz_xz_seg(lzma_stream *xs, int level, const void *data, size_t n, sink_fn sink, void *ud,
                 unsigned char *out, size_t outlen)
{
    lzma_options_lzma opt;
    if (lzma_lzma_preset(&opt, (uint32_t)level))
        return EINVAL;
    uint32_t dict = LZMA_DICT_SIZE_MIN;
    while (dict < n && dict < opt.dict_size)
        dict *= 2;
    if (dict < opt.dict_size)
        opt.dict_size = dict;
    lzma_filter f[2] = { { LZMA_FILTER_LZMA2, &opt }, { LZMA_VLI_UNKNOWN, NULL } };
    lzma_ret r = lzma_stream_encoder(xs, f, LZMA_CHECK_CRC64);
    if (r != LZMA_OK)
        return r == LZMA_MEM_ERROR ? ENOMEM : EINVAL;
    xs->next_in = data;
    xs->avail_in = n;
    do {
        xs->next_out = out;
        xs->avail_out = outlen;
        r = lzma_code(xs, LZMA_FINISH);
        if (r != LZMA_OK && r != LZMA_STREAM_END)
            return r == LZMA_MEM_ERROR ? ENOMEM : EINVAL;
        size_t got = outlen - xs->avail_out;
        if (got) {
            int e = sink(ud, out, got);
            if (e)
                return e;
        }
    } while (r != LZMA_STREAM_END);
    return 0;
}


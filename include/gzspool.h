#ifndef SEGEXPORT_GZSPOOL_H
#define SEGEXPORT_GZSPOOL_H
/* A tar.gz, tar.zst or tar.xz batch compressed while its rows are still being
 * built (the "writer stage" of docs/performance.md).
 *
 * The archive's first member, manifest.json, lists every part's size and
 * CRC-32, known only at the end; so the part data cannot simply be fed to one
 * compressor as it comes.  Instead (pigz's idea), the part data is cut into
 * segments - at most SE_GZ_SEG bytes, never spanning two parts - and each
 * segment is compressed on its own: raw deflate from a reset state ending
 * with a sync flush (so it ends on a byte boundary), or one whole zstd frame
 * or xz stream.  Segments are compressed by the pool's threads (one per core,
 * at most four), shared by all streams of the process, into the stream's
 * spool file in order, while the caller builds the next rows.  At the end the
 * archive is assembled: the tar headers, the manifest, paddings and the
 * end-of-archive blocks (compressed on the spot as small segments of their
 * own) around the spooled part segments, copied in order.  For gzip: a gzip
 * header before and a trailer whose CRC comes from crc32_combine after: one
 * ordinary gzip member.  For zstd and xz: concatenated frames / streams,
 * which their formats define as one file (zstd, xz, GNU tar, bsdtar, Python
 * read them).
 *
 * Bytes: segment boundaries depend only on the row bytes (never on timing or on
 * the number of threads), so the archive is the same with any number of
 * threads.  Its decompressed tar stream is byte for byte what libarchive
 * writes for the same entries (ustar, fixed metadata, no padding to a block).
 *
 * Memory: each stream holds one buffer of SE_GZ_SEG bytes; the pool has
 * SE_GZ_INFLIGHT more (two more per extra thread) for segments waiting for or
 * under compression; a stream that finds none free waits.  Each thread
 * compresses a buffer into memory of its own (about a buffer's size) before
 * it is its turn to append it to the spool. */
#include <stddef.h>
#include <stdint.h>

#define SE_GZ_SEG (1u << 20)
#define SE_GZ_INFLIGHT 3

typedef struct se_gzs se_gzs;

/* Compression threads: n (at most 4), 0 (every segment compressed by the
 * caller, synchronously: for tests, and the fallback when no thread can be
 * started) or -1 (the default: one per online core, at most 4).  Output bytes
 * are the same.  Takes effect when no stream exists (the pool is made with the
 * first stream and ends with the last). */
void se_gzs_set_threads(int n);

/* How segments are compressed: raw deflate (tar.gz, zip), or each as one
 * whole zstd frame / xz stream (tar.zst, tar.xz: concatenated, they are one
 * valid file; libarchive writes them). */
typedef enum se_gz_codec { SE_GZC_DEFLATE, SE_GZC_ZSTD, SE_GZC_XZ } se_gz_codec;

/* A stream over spool_fd (an empty file open for writing and reading, owned by
 * the caller; the stream appends compressed segments to it) in codec at level
 * (deflate 0-9, else what libarchive's filter takes).  NULL when out of memory. */
se_gzs *se_gzs_new(int spool_fd, se_gz_codec codec, int level);

/* Starts part number part (0, 1, 2 ... in order); the bytes written from now on
 * belong to it.  Every part must get at least one byte before the next starts. */
int se_gzs_part(se_gzs *s, size_t part, char *err, size_t errlen);

/* Appends n bytes to the current part.  0, or -1 with err (also for an error
 * the thread met on an earlier segment, e.g. a full disk: "spool: reason"). */
int se_gzs_write(se_gzs *s, const void *p, size_t n, char *err, size_t errlen);

/* Part number part (the next in order) made of n bytes of raw deflate data
 * compressed elsewhere (merge copies a shard's part through): independent
 * segments, each from a reset state and ending on a byte boundary (sync
 * flush), no final block - what this stream itself spools.  Waits for the
 * pending segments, then appends.  0, or -1 with err ("spool: reason"). */
int se_gzs_put_deflated(se_gzs *s, size_t part, const void *p, size_t n, char *err, size_t errlen);

/* One entry of the archive for se_gzs_write_archive: the parts, in order,
 * with their byte counts and CRC-32s (what the manifest says). */
typedef struct se_gz_part {
    uint64_t bytes;
    uint32_t crc;
} se_gz_part;

/* Waits until every segment is in the spool, then writes the whole tar.gz to
 * out_fd: manifest.json (mlen bytes of mtext) and part-00000.json ... with
 * parts[i]'s sizes (which must be what was written), every entry with mode
 * 0644, uid/gid 0 and mtime mtime_s.  0, or -1 with err: "spool: reason" when
 * the spool failed (*spool_failed set), else the reason writing out_fd failed. */
int se_gzs_write_archive(se_gzs *s, int out_fd, const char *mtext, size_t mlen,
                         const se_gz_part *parts, size_t nparts, int64_t mtime_s,
                         int *spool_failed, char *err, size_t errlen);

/* For other archive writers (zipspool.c).  se_gzs_sync: hands over the last
 * segment and waits until all are in the spool; 0, or -1 with err ("spool:
 * reason").  Then se_gzs_comp(part) is the compressed size of a part: its
 * segments, each ending with a sync flush (no final block), lie in the spool
 * in part order from offset 0.  se_gzs_copy copies n spool bytes from off to
 * out_fd; -1 with err (*spool_failed set when the spool failed). */
int se_gzs_sync(se_gzs *s, size_t nparts, char *err, size_t errlen);
uint64_t se_gzs_comp(const se_gzs *s, size_t part);
int se_gzs_copy(se_gzs *s, uint64_t off, uint64_t n, int out_fd, int *spool_failed,
                char *err, size_t errlen);

/* Waits for (or discards) this stream's pending segments, frees.  NULL ok. */
void se_gzs_free(se_gzs *s);

/* The 512-byte ustar header libarchive's pax_restricted writer gives a
 * regular file with the fixed metadata above.  Where libarchive would add a
 * pax extended header instead (a size of 8 GiB or more, a time from 2038-01-19),
 * the ustar field holds the value: octal while it fits, else base-256 (as GNU
 * tar writes; libarchive, GNU tar and Python read both). */
void se_tar_header(unsigned char h[512], const char *name, uint64_t size, int64_t mtime_s);

#endif

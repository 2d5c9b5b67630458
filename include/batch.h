#ifndef SEGEXPORT_BATCH_H
#define SEGEXPORT_BATCH_H
/* One batch = one archive OUTPUT/<datasetId>/<batchId>.<ext> (SPEC §7):
 * manifest.json first, then part-00000.json ... (NDJSON, at most rows_per_file
 * rows each; none for an empty batch).  Rows are spooled to an unlinked
 * temporary file while the job runs; se_batch_finish writes the archive under a
 * temporary name in the same directory and fsyncs it; se_batch_commit renames it
 * into place.  Until commit nothing is visible under the final name; freeing an
 * uncommitted batch removes its temporary files. */
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <json-c/json.h>

typedef enum { SE_FMT_TAR_GZ, SE_FMT_TAR_ZST, SE_FMT_TAR_XZ, SE_FMT_TAR, SE_FMT_ZIP } se_format;

/* "tar.gz" ... "zip" -> fmt; 0 or -1 when unknown. */
int se_format_parse(const char *s, se_format *fmt);
const char *se_format_ext(se_format fmt);

/* A batch id as segexport makes them: 32 lowercase hex digits (the one check). */
bool se_batch_id_valid(const char *s);   /* "tar.gz", "tar.zst", "tar.xz", "tar", "zip" */
/* Level check: gzip/zip/xz 0-9, zstd 1-19; tar takes none.  0, or -1 with err. */
int se_format_check_level(se_format fmt, int level, char *err, size_t errlen);

typedef struct se_batch_info {
    const char *batch_id;      /* 32 lowercase hex */
    const char *dataset_id;
    int64_t job_id;
    const char *schema_name;
    json_object *segments;     /* array of {segmentId, segmentNs, status}; borrowed; copied into the manifest */
} se_batch_info;

typedef struct se_batch se_batch;

/* dir is OUTPUT/<datasetId>; it is created (with parents) when missing.  level
 * -1 means the format's default.  mtime_s is every archive entry's time.
 * NULL on failure with "PATH: reason" in err. */
se_batch *se_batch_new(const char *dir, const se_batch_info *info, se_format fmt,
                       int level, uint64_t rows_per_file, int64_t mtime_s,
                       char *err, size_t errlen);

/* Appends one row (len bytes of JSON, no newline).  0, or -1 with err. */
int se_batch_add(se_batch *b, const char *row, size_t len, char *err, size_t errlen);

/* tar.gz and zip: appends a whole part whose rows are compressed already -
 * clen bytes of raw deflate data (gzspool.h: se_gzs_put_deflated) holding
 * bytes bytes, records rows (at most rows_per_file), CRC-32 crc, as a
 * shard's archive holds them (merge copies them through).  The next
 * se_batch_add starts a new part.  0, or -1 with err. */
int se_batch_add_deflated(se_batch *b, const void *data, size_t clen, uint64_t bytes,
                          uint32_t crc, uint64_t records, char *err, size_t errlen);

/* Writes the whole archive under its temporary name, fsyncs it.  0 or -1. */
int se_batch_finish(se_batch *b, char *err, size_t errlen);

/* Renames the finished archive into place and fsyncs the directory.  0 or -1. */
int se_batch_commit(se_batch *b, char *err, size_t errlen);

/* Removes temporary files unless committed, frees.  Accepts NULL. */
void se_batch_free(se_batch *b);

/* Undoes a successful (or half-done) commit: removes the archive this batch
 * renamed into place - only that one - and syncs the directory.  For all or
 * nothing when a later batch of the same job fails to commit.  No-op when not
 * committed.  0, or -1 with err. */
int se_batch_rollback(se_batch *b, char *err, size_t errlen);

/* Removes the temporary files any process left for batch_id in dir (its
 * ".<batchId>.*" names): what a killed worker leaves.  Returns how many. */
int se_batch_remove_temps(const char *dir, const char *batch_id);

uint64_t se_batch_records(const se_batch *b);
const char *se_batch_final_path(const se_batch *b);

/* The manifest object that se_batch_finish writes (after rows are added): for
 * tests.  A new reference (json_object_put it); NULL when out of memory. */
json_object *se_batch_manifest(const se_batch *b);

#endif

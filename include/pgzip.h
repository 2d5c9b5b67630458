#ifndef SEGEXPORT_PGZIP_H
#define SEGEXPORT_PGZIP_H
/* gzip on several cores, as pigz does it: the input is cut into blocks of
 * 1 MiB, each compressed on its own (threads at a time) into a complete gzip
 * member, and the members written in order.  Concatenated members are one
 * valid gzip file (RFC 1952 §2.2; gzip, zlib's gzread, libarchive and
 * Python's gzip/tarfile read them), a little larger (about 20 bytes a member
 * and a fresh dictionary each MiB).  The bytes depend only on the input and
 * the level, never on the number of threads: reproducible. */
#include <stddef.h>

typedef struct se_pgz se_pgz;

/* Writes to fd (not closed).  level 0-9; threads >= 1.  NULL on ENOMEM. */
se_pgz *se_pgz_new(int fd, int level, int threads);

/* 0, or -1 with errno (a write error or ENOMEM; the stream is then unusable). */
int se_pgz_write(se_pgz *z, const void *p, size_t n);

/* Compresses and writes what is left.  0, or -1 with errno. */
int se_pgz_finish(se_pgz *z);

void se_pgz_free(se_pgz *z); /* accepts NULL */

#endif

/* The JSON files options name (optfiles.h).  They are read here, whole, and
 * parsed from the text, so that "-" (standard input) is read once and its
 * messages say "stdin:LINE:" as the job's do. */
#include "optfiles.h"
#include "fsutil.h"
#include "joblocate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_FILE_MAX ((size_t)256 << 20)

typedef int parse_fn(void *ctx, const char *text, size_t len, const char *name, char *err,
                     size_t errlen);

/* Reads path whole and parses it: 0, or -1 with the message in msg. */
static int load_opt_file(const char *path, parse_fn *parse, void *ctx, char *msg, size_t msglen)
{
    const char *name = strcmp(path, "-") ? path : "stdin";
    char err[1024];
    size_t len;
    char *text = se_slurp(path, OPT_FILE_MAX, &len);
    int rc;

    if (!text) {
        snprintf(msg, msglen, "%s: %s", name,
                 errno == EFBIG ? "file too large (over 256 MiB)" : strerror(errno));
        return -1;
    }
    if ((rc = parse(ctx, text, len, name, err, sizeof err)) != 0)
        se_json_locate_defs_error(name, text, len, err, msg, msglen);
    free(text);
    return rc;
}

static int parse_policies(void *reg, const char *text, size_t len, const char *name, char *err,
                          size_t errlen)
{
    return se_mp_registry_parse(reg, text, len, name, err, errlen);
}

static int parse_segdefs(void *out, const char *text, size_t len, const char *name, char *err,
                         size_t errlen)
{
    return se_segdefs_parse(text, len, name, out, err, errlen);
}

int se_opt_load_merge_policies(se_mp_registry *reg, const char *path, char *msg, size_t msglen)
{
    return load_opt_file(path, parse_policies, reg, msg, msglen);
}

int se_opt_load_segdefs(const char *path, se_segdefs **out, char *msg, size_t msglen)
{
    *out = NULL;
    return load_opt_file(path, parse_segdefs, out, msg, msglen);
}

int se_stdin_once(const char *cmd, const char *const *who, const bool *uses, size_t n,
                  char *msg, size_t msglen)
{
    const char *first = NULL;

    for (size_t i = 0; i < n; i++) {
        if (!uses[i])
            continue;
        if (first) {
            snprintf(msg, msglen, "%s: %s and %s cannot both be stdin", cmd, first, who[i]);
            return -1;
        }
        first = who[i];
    }
    return 0;
}

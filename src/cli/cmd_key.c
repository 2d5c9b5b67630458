/* `segexport key [INPUT...]`: the scale-out mapper (SPEC §9).  KEY<TAB>RECORD
 * for every good record; every bad record passed on as a bad-record line
 * (keyed.h) that `run --keyed` counts and reports with its original input name
 * and line, so nothing is lost between key and run.  Bad records are not
 * reported here (run reports them, once); -v lists them on stderr too.
 * --graph (identityGraph pdg): a first pass builds the identity graph, and
 * every good record is keyed by its stitched profile's key (stitch.h). */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "input.h"
#include "keyed.h"
#include "msg.h"
#include "record.h"
#include "stitch.h"

int se_cmd_key(const se_opts *o)
{
    char *const *inputs = o->operands;
    size_t ninputs = o->noperands;
    se_input *in = NULL;
    se_rparser *rp = NULL;
    se_stitcher *st = NULL;
    se_line ln;
    se_record rec;
    uint64_t seq = 0;
    char err[512]; /* as run's: the same reasons, truncated alike */
    int r, rc = SE_EXIT_OK;

    memset(&rec, 0, sizeof rec);
    if (se_input_check_paths(inputs, ninputs, err, sizeof err)) {
        se_error("%s", err);
        return SE_EXIT_SYSTEM;
    }
    if (o->graph) {
        if (se_stitch_check_inputs(inputs, ninputs, err, sizeof err)) {
            se_error("key --graph: %s", err);
            return SE_EXIT_USAGE;
        }
        if (!(st = se_stitcher_new()) ||
            se_stitcher_read(st, inputs, ninputs, (size_t)o->max_record_bytes, NULL, err, sizeof err)) {
            se_error("%s", st ? err : "out of memory");
            rc = st && strcmp(err, "out of memory") ? SE_EXIT_FAILED : SE_EXIT_SYSTEM;
            goto out;
        }
    }
    in = se_input_open(inputs, ninputs, (size_t)o->max_record_bytes);
    rp = se_rparser_new();
    if (!in || !rp) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    while ((r = se_input_next(in, &ln)) > 0) {
        seq++;
        if (ln.too_long) {
            snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                     (unsigned long long)o->max_record_bytes);
        } else if (st) {
            const char *key;
            size_t klen;
            unsigned size;
            int k = se_stitcher_key(st, ln.data, ln.len, &key, &klen, &size, err, sizeof err);
            if (k < 0) {
                se_error("%s:%llu: %s", ln.name, (unsigned long long)ln.lineno, err);
                rc = SE_EXIT_FAILED;
                goto out;
            }
            if (k > 0) {
                if (fwrite(key, 1, klen, stdout) != klen || putchar('\t') == EOF ||
                    fwrite(ln.data, 1, ln.len, stdout) != ln.len || putchar('\n') == EOF)
                    goto werr;
                continue;
            }
        } else if (se_record_facts(rp, ln.data, ln.len, &rec, err, sizeof err) == 0) {
            if (fputs(rec.key, stdout) == EOF || putchar('\t') == EOF ||
                fwrite(ln.data, 1, ln.len, stdout) != ln.len || putchar('\n') == EOF)
                goto werr;
            se_record_clear(&rec);
            continue;
        }
        if (se_verbosity > 0)
            se_warn("%s:%llu: %s (passed on)", ln.name, (unsigned long long)ln.lineno, err);
        if (se_keyed_bad_write(stdout, seq, ln.name, ln.lineno, err) != 0)
            goto werr;
    }
    if (r < 0) {
        se_error("%s", se_input_error(in));
        rc = SE_EXIT_FAILED;
    }
    if (fflush(stdout) == EOF)
        goto werr;
    goto out;
werr:
    se_error("error writing to standard output");
    rc = SE_EXIT_SYSTEM;
out:
    se_record_clear(&rec);
    se_rparser_free(rp);
    se_input_free(in);
    se_stitcher_free(st);
    return rc;
}

/* `segexport key [INPUT...]`: the scale-out mapper (SPEC §9).  KEY<TAB>RECORD
 * for every good record; every bad record passed on as a bad-record line
 * (keyed.h) that `run --keyed` counts and reports with its original input name
 * and line, so nothing is lost between key and run.  Bad records are not
 * reported here (run reports them, once); -v lists them on stderr too. */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "input.h"
#include "keyed.h"
#include "msg.h"
#include "record.h"

int se_cmd_key(const se_opts *o)
{
    char *const *inputs = o->operands;
    size_t ninputs = o->noperands;
    se_input *in = NULL;
    se_rparser *rp = NULL;
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
    return rc;
}

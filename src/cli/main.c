/* segexport: offline AEP segment export jobs.  Parses the command line,
 * dispatches, and owns the one exit path that checks stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <json-c/json.h>
#include "commands.h"
#include "msg.h"
#include "opts.h"

int main(int argc, char **argv)
{
    se_opts o;
    int rc, pr;

    /* libarchive writes zip entry times in local time: pin the zone so
     * archives are byte-identical wherever SOURCE_DATE_EPOCH runs are made. */
    setenv("TZ", "UTC0", 1);
    tzset();
    pr = se_cli_parse(argc, argv, &o);

    if (pr != 0) {
        rc = pr > 0 ? SE_EXIT_OK : SE_EXIT_USAGE;
        goto out;
    }
    switch (o.cmd) {
    case SE_CMD_RUN: rc = se_cmd_run(&o); break;
    case SE_CMD_CREATE: rc = se_cmd_create(&o); break;
    case SE_CMD_KEY: rc = se_cmd_key(&o); break;
    case SE_CMD_GET: rc = se_cmd_get(&o); break;
    case SE_CMD_LIST: rc = se_cmd_list(&o); break;
    case SE_CMD_CANCEL: rc = se_cmd_cancel(&o); break;
    case SE_CMD_MERGE: rc = se_cmd_merge(&o); break;
    case SE_CMD_FILES: rc = se_cmd_files(&o); break;
    case SE_CMD_CAT: rc = se_cmd_cat(&o); break;
    case SE_CMD_VERIFY: rc = se_cmd_verify(&o); break;
    default:
        se_error("%s: not implemented yet", o.cmd_name);
        rc = SE_EXIT_USAGE;
        break;
    }
out:
    se_cli_free(&o);
    /* A full disk or closed pipe on stdout is an error, not a silent truncation. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        se_error("error writing to standard output");
        if (rc == SE_EXIT_OK)
            rc = SE_EXIT_SYSTEM;
    }
    return rc;
}

#ifndef SEGEXPORT_ERRCODES_H
#define SEGEXPORT_ERRCODES_H
/* The 10-digit error codes that appear in a job's errors[] (README lists them). */
#define SE_EC_JOB_FAILED     "0100000003" /* Error in Export Job: the job failed (summary entry) */
#define SE_EC_WRITE          "0090000009" /* error writing profiles to the output path */
#define SE_EC_BAD_RECORD     "0100000010" /* a bad input record (malformed, not an object, no identity, too long) */
#define SE_EC_INPUT_READ     "0100000011" /* an input could not be read or decompressed */
#define SE_EC_NOT_GROUPED    "0100000012" /* input not grouped by profile key */
#define SE_EC_CANCELLED      "0100000013" /* the job was cancelled */
#define SE_EC_WORKER_DIED    "0100000014" /* the worker process died */
#define SE_EC_GRAPH_TOO_BIG  "0100000015" /* profile graph holds more than 50 identities; profile left out */
#define SE_EC_KEY_ORDER      "0100000016" /* --keyed input not sorted by key */
#endif

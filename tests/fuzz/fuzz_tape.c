/* Fuzz target: the tape parser (src/json/tape.c) against json-c, the parser
 * the record reader used before it: the same texts accepted, the same hazard
 * named, the same values (a tree built from the tape prints exactly as
 * json-c's own), and a consistent tape; and every path of the parser (AVX2,
 * SSE2, a byte loop, AUTO) gives the byte parser's tape and verdict.  Input:
 * one JSON text. */
#include "fuzz_common.h"
#include "tape_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static se_tape tp;
    const char *diff = tape_vs_jsonc(&tp, (const char *)data, size);
    if (!diff)
        diff = tape_paths_agree((const char *)data, size);
    if (diff) {
        fprintf(stderr, "fuzz_tape: %s: %.*s\n", diff, (int)(size < 400 ? size : 400), (const char *)data);
        abort();
    }
    return 0;
}

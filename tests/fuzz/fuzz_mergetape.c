/* Fuzz target: the tape merge writer (src/engine/mergetape.c) against the tree
 * path.  Every line of the input that is a good record is one record of one
 * group (keys are not compared); the first byte picks the merge policy
 * (bit 0: dataSetPrecedence over datasets "a","b"; else timestampOrdered)
 * and bit 1 drops the fragments (an events-only group).  Whenever
 * se_merge_tape is sure, its bytes must be json-c's for se_profile_assemble's
 * merged profile. */
#include "fuzz_common.h"
#include "mergetape.h"
#include "profile.h"
#include "recfacts.h"
#include "record.h"

enum { MAX_RECS = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static se_rparser *rp;
    static char *order[] = {"a", "b"};
    static const se_mpolicy ts = {"timestampOrdered-none-mp", 1, SE_ATTR_TIMESTAMP_ORDERED, NULL, 0, SE_GRAPH_NONE};
    static const se_mpolicy dsp = {"dsp", 1, SE_ATTR_DATASET_PRECEDENCE, order, 2, SE_GRAPH_NONE};
    static se_grec fr[MAX_RECS], ev[MAX_RECS];
    char err[512];
    size_t nf = 0, ne = 0;
    uint64_t seq = 0;
    se_profile p;
    se_record rec;

    if (!rp && !(rp = se_rparser_new()))
        abort();
    if (size == 0)
        return 0;
    const se_mpolicy *pol = data[0] & 1 ? &dsp : &ts;
    bool events_only = data[0] & 2;
    se_profile_init(&p);
    if (se_profile_begin(&p, "k") != 0)
        abort();
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    while (s < end && nf + ne < MAX_RECS) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (se_record_parse(rp, s, n, &rec, err, sizeof err) == 0 &&
            !(events_only && rec.kind == SE_REC_PROFILE)) {
            rec.seq = seq;
            se_grec *g = rec.kind == SE_REC_EVENT ? &ev[ne++] : &fr[nf++];
            if (se_profile_add(&p, &rec) != 0) /* takes rec */
                abort();
            se_tape_init(&g->tape);
            if (se_tape_parse(&g->tape, s, n) != SE_TAPE_OK ||
                se_tape_facts(&g->tape, &g->f, err, sizeof err) != 0)
                abort(); /* the record parser took it */
            g->f.seq = seq++;
        }
        se_record_clear(&rec);
        s += n + 1;
    }

    char *buf = NULL;
    size_t len = 0, cap = 0, wl;
    int r = se_merge_tape(fr, nf, ev, ne, pol, NULL, &buf, &len, &cap);
    if (r < 0 || se_profile_assemble(&p, pol) != 0)
        abort();
    const char *want = json_object_to_json_string_length(
        p.merged, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &wl);
    if (r == 1 && (wl != len || memcmp(want, buf, len) != 0)) {
        fprintf(stderr, "mergetape: differs\n tape:   %.*s\n json-c: %s\n", (int)len, buf, want);
        abort();
    }
    if (r == 0 && len != 0)
        abort();
    free(buf);
    for (size_t i = 0; i < nf; i++) {
        se_record_clear(&fr[i].f);
        se_tape_free(&fr[i].tape);
    }
    for (size_t i = 0; i < ne; i++) {
        se_record_clear(&ev[i].f);
        se_tape_free(&ev[i].tape);
    }
    se_profile_clear(&p);
    return 0;
}

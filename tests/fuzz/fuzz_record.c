/* Fuzz target: one input line through the record reader (se_record_parse,
 * held to the reference json-c reader of tests/fuzz/ref_record.h),
 * the profile key (se_identity_key) and projection (se_proj_compile/apply).
 * Input: FIELDS '\n' RECORD; without a LF (or a first line over 256 bytes) the
 * whole input is the record and the fields come from its first byte. */
#include "fuzz_common.h"
#include "project.h"
#include "record.h"
#include "ref_record.h"
#include "profile.h"
#include "tape.h"

/* A profile record's row from its tape (se_proj_tape_row) must be the bytes
 * of the json-c path: one-fragment profile, projection, print. */
static void check_tape_row(const se_proj *pj, const char *data, size_t len, se_record *rec)
{
    static se_tape tp;
    static char *buf;
    static size_t cap;
    size_t n = 0;
    se_profile p;
    if (rec->kind != SE_REC_PROFILE)
        return;
    if (se_tape_parse(&tp, data, len) != SE_TAPE_OK)
        abort();
    int r = se_proj_tape_row(pj, &tp, &buf, &n, &cap);
    if (r < 0)
        abort();
    if (r == 0)
        return;
    se_profile_init(&p);
    if (se_profile_begin(&p, rec->key) != 0 || se_profile_add(&p, rec) != 0 ||
        se_profile_assemble(&p, NULL) != 0)
        abort();
    memset(rec, 0, sizeof *rec); /* the profile owns it now */
    json_object *row = se_proj_apply(pj, p.merged);
    size_t wl;
    const char *want = json_object_to_json_string_length(row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &wl);
    if (wl != n || memcmp(want, buf, n) != 0) {
        fprintf(stderr, "tape row:  %.*s\njson-c row: %s\n", (int)n, buf, want);
        abort();
    }
    json_object_put(row);
    se_profile_clear(&p);
}

static const char *const fixed_fields[] = {
    NULL, "", "identityMap", "a.b, c", "person.name.firstName,identityMap.ECID",
    "segmentMembership.ups", "x,x.y, ,", "a.b.c.d.e.f",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static se_rparser *rp;
    char err[512], *fields = NULL;
    const char *rec_data = (const char *)data;
    size_t rec_len = size;
    se_record rec;
    se_proj *pj = NULL;

    if (!rp && !(rp = se_rparser_new()))
        abort();
    const uint8_t *nl = memchr(data, '\n', size < 257 ? size : 257);
    if (nl) {
        size_t n = (size_t)(nl - data);
        if (!(fields = strndup((const char *)data, n)))
            abort();
        rec_data += n + 1;
        rec_len -= n + 1;
    }
    if (se_proj_compile(fields ? fields
                               : fixed_fields[(size ? data[0] : 0) % (sizeof fixed_fields / sizeof *fixed_fields)],
                        &pj) != 0)
        abort();
    /* The tape-based reader against the reference json-c path. */
    if (ref_record_compare(rp, rec_data, rec_len) != NULL)
        abort();
    if (se_record_parse(rp, rec_data, rec_len, &rec, err, sizeof err) == 0) {
        if (!rec.obj || !rec.key || !json_object_is_type(rec.obj, json_type_object))
            abort();
        json_object *im = NULL;
        json_object_object_get_ex(rec.obj, "identityMap", &im);
        char *k = se_identity_key(im);
        if (!k || strcmp(k, rec.key) != 0)
            abort(); /* the key must be a function of the normalized map */
        free(k);
        json_object *row = se_proj_apply(pj, rec.obj);
        if (!row)
            abort();
        size_t len;
        const char *s = json_object_to_json_string_length(row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!s || strlen(s) != len)
            abort(); /* rows must not carry a NUL */
        json_object_put(row);
        check_tape_row(pj, rec_data, rec_len, &rec);
        se_record_clear(&rec);
    } else if (rec.obj || rec.key || err[0] == '\0') {
        abort();
    }
    se_proj_free(pj);
    free(fields);
    return 0;
}

/* Fuzz target: segment definitions files (se_segdefs_parse: JSON shape and
 * every PQL expression compiled) and, for an accepted file, evaluation on
 * fixed raw records (a profile with duplicate keys, escapes and
 * _acp_system_metadata; events) by both paths: the json-c trees
 * (se_segdefs_apply) and the raw tapes (se_segdefs_eval_tape +
 * se_segdefs_edit), which must leave the same profile; and
 * se_segdefs_edit_changes must not say "no change" for a change.  A
 * rejection must be one line. */
#include "fuzz_common.h"
#include "record.h"
#include "segdefs.h"
#include "tape.h"

static const char profile_text[] =
    "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"person\":{\"gender\":\"female\","
    "\"name\":{\"firstName\":\"Ada\"},\"age\":42,\"age\":43},\"loyalty\":{\"tier\":\"g\\u006fld\","
    "\"points\":[1,2.5,18446744073709551615]},"
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\","
    "\"lastQualificationTime\":\"2018-01-01T00:00:00Z\"}}},"
    "\"_acp_system_metadata\":{\"ingestTime\":1}}";
static const char *const event_texts[] = {
    "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"timestamp\":\"2018-10-01T00:00:00Z\","
    "\"eventType\":\"commerce.purchases\",\"commerce\":{\"order\":{\"priceTotal\":12.5}}}",
    "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"timestamp\":\"2018-09-01T00:00:00Z\","
    "\"eventType\":\"web.webpagedetails.page\\u0056iews\",\"_acp_system_metadata\":{}}",
};

static json_object *tree(se_rparser *rp, const char *text)
{
    se_record rec;
    char err[256];
    json_object *o;
    if (se_record_parse(rp, text, strlen(text), &rec, err, sizeof err) != 0)
        abort();
    o = json_object_get(rec.obj);
    se_record_clear(&rec);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    se_segdefs *d = NULL;

    if (se_segdefs_parse((const char *)data, size, "defs.json", &d, err, sizeof err) != 0) {
        if (d != NULL || err[0] == '\0' || memchr(err, '\n', strlen(err)))
            abort();
        return 0;
    }
    se_rparser *rp = se_rparser_new();
    se_tape pt, et[2];
    const se_tape *ep[2] = {&et[0], &et[1]};
    bool *match = calloc(se_segdefs_count(d) + 1, sizeof *match);
    if (!rp || !match)
        abort();
    json_object *a = tree(rp, profile_text), *b = tree(rp, profile_text);
    json_object *events[2] = {tree(rp, event_texts[0]), tree(rp, event_texts[1])};
    se_tape_init(&pt);
    se_tape_init(&et[0]);
    se_tape_init(&et[1]);
    if (se_tape_parse(&pt, profile_text, strlen(profile_text)) ||
        se_tape_parse(&et[0], event_texts[0], strlen(event_texts[0])) ||
        se_tape_parse(&et[1], event_texts[1], strlen(event_texts[1])))
        abort();
    int ra = se_segdefs_apply(d, a, events, 2, 1538611200000, err, sizeof err);
    int rt = se_segdefs_eval_tape(d, &pt, ep, 2, 1538611200000, match, err, sizeof err);
    if (ra == 0 && rt == 1) {
        bool says = se_segdefs_edit_changes(d, &pt, match);
        char *before = strdup(json_object_to_json_string(b));
        if (!before || se_segdefs_edit(d, b, match, 1538611200000, err, sizeof err) != 0)
            abort();
        const char *sa = json_object_to_json_string(a), *sb = json_object_to_json_string(b);
        if (strcmp(sa, sb) != 0)
            abort(); /* the tape path answered differently */
        if (!says && strcmp(before, sb) != 0)
            abort(); /* "no change" for a change */
        free(before);
    } else if (rt == 0) {
        abort(); /* these records read plainly: the tape path must answer */
    }
    se_tape_free(&pt);
    se_tape_free(&et[0]);
    se_tape_free(&et[1]);
    json_object_put(a);
    json_object_put(b);
    json_object_put(events[0]);
    json_object_put(events[1]);
    free(match);
    se_rparser_free(rp);
    se_segdefs_free(d);
    return 0;
}

/* Fuzz target: segment definitions files (se_segdefs_parse: JSON shape and
 * every PQL expression compiled) and, for an accepted file, evaluation on a
 * fixed profile with events (se_segdefs_apply).  A rejection must be one line. */
#include "fuzz_common.h"
#include "segdefs.h"

static const char profile_text[] =
    "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"person\":{\"gender\":\"female\","
    "\"name\":{\"firstName\":\"Ada\"},\"age\":42},\"loyalty\":{\"tier\":\"gold\",\"points\":[1,2]},"
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\","
    "\"lastQualificationTime\":\"2018-01-01T00:00:00Z\"}}}}";
static const char *const event_texts[] = {
    "{\"timestamp\":\"2018-10-01T00:00:00Z\",\"eventType\":\"commerce.purchases\","
    "\"commerce\":{\"order\":{\"priceTotal\":12.5}}}",
    "{\"timestamp\":\"2018-09-01T00:00:00Z\",\"eventType\":\"web.webpagedetails.pageViews\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    se_segdefs *d = NULL;

    if (se_segdefs_parse((const char *)data, size, "defs.json", &d, err, sizeof err) != 0) {
        if (d != NULL || err[0] == '\0' || memchr(err, '\n', strlen(err)))
            abort();
        return 0;
    }
    json_object *profile = json_tokener_parse(profile_text);
    json_object *events[2] = { json_tokener_parse(event_texts[0]), json_tokener_parse(event_texts[1]) };
    if (profile && events[0] && events[1])
        se_segdefs_apply(d, profile, events, 2, 1538611200000, err, sizeof err);
    json_object_put(profile);
    json_object_put(events[0]);
    json_object_put(events[1]);
    se_segdefs_free(d);
    return 0;
}

/* Cost of segment evaluation per profile, for callgrind (docs/pql.md,
 * "Cost"): a profile of one fragment and 3 ExperienceEvents, the segment
 * `homeAddress.countryCode = "US" and person.birthYear < 1990 and
 * xEvent[eventType = "commerce.purchases"].sum(commerce.order.priceTotal) > 100`.
 *   tape N: se_tape_parse of the 4 records (bench_parse), then
 *           se_segdefs_eval_tape + se_segdefs_edit_changes (bench_eval);
 *   tree N: se_record_parse of the 4 records (bench_parse), then
 *           se_segdefs_apply on the trees (bench_eval: the fallback path).
 * Build and measure (instructions of 1000 profiles):
 *   cc -O2 -Iinclude $(pkg-config --cflags json-c) tests/bench/pql_cost.c build/libsegexport.a \
 *      $(pkg-config --libs json-c libarchive zlib libpcre2-8) -lpthread -o build/pql_cost
 *   valgrind --tool=callgrind --toggle-collect=bench_eval build/pql_cost tape 1000 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "segdefs.h"
#include "tape.h"

static const char DEFS[] =
    "[{\"id\":\"s1\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":"
    "\"homeAddress.countryCode = \\\"US\\\" and person.birthYear < 1990 and "
    "xEvent[eventType = \\\"commerce.purchases\\\"].sum(commerce.order.priceTotal) > 100\"}}]";
static const char PROFILE[] =
    "{\"identityMap\":{\"ECID\":[{\"id\":\"12345678901234567890\",\"primary\":true}],"
    "\"Email\":[{\"id\":\"someone@example.com\"}]},"
    "\"person\":{\"name\":{\"firstName\":\"Ada\",\"lastName\":\"Lovelace\"},\"birthYear\":1985,"
    "\"gender\":\"female\"},"
    "\"homeAddress\":{\"city\":\"Boston\",\"countryCode\":\"US\",\"postalCode\":\"02110\"},"
    "\"personalEmail\":{\"address\":\"someone@example.com\"},"
    "\"loyalty\":{\"tier\":\"gold\",\"points\":1200},"
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\","
    "\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}}},"
    "\"_acp_system_metadata\":{\"ingestTime\":1700000000000,\"datasetId\":\"ds1\"}}";
static const char *const EVENTS[] = {
    "{\"identityMap\":{\"ECID\":[{\"id\":\"12345678901234567890\"}]},"
    "\"timestamp\":\"2024-03-01T10:00:00Z\",\"eventType\":\"commerce.purchases\","
    "\"commerce\":{\"order\":{\"priceTotal\":80.5,\"currencyCode\":\"USD\"}},"
    "\"productListItems\":[{\"SKU\":\"A1\",\"quantity\":1}],"
    "\"_acp_system_metadata\":{\"ingestTime\":1700000000000}}",
    "{\"identityMap\":{\"ECID\":[{\"id\":\"12345678901234567890\"}]},"
    "\"timestamp\":\"2024-03-02T10:00:00Z\",\"eventType\":\"web.webpagedetails.pageViews\","
    "\"web\":{\"webPageDetails\":{\"name\":\"home\"}},"
    "\"_acp_system_metadata\":{\"ingestTime\":1700000000000}}",
    "{\"identityMap\":{\"ECID\":[{\"id\":\"12345678901234567890\"}]},"
    "\"timestamp\":\"2024-03-03T10:00:00Z\",\"eventType\":\"commerce.purchases\","
    "\"commerce\":{\"order\":{\"priceTotal\":40,\"currencyCode\":\"USD\"}},"
    "\"productListItems\":[{\"SKU\":\"B2\",\"quantity\":2}],"
    "\"_acp_system_metadata\":{\"ingestTime\":1700000000000}}",
};
#define NEV 3
#define NOW INT64_C(1710504000000)

static se_segdefs *d;
static se_rparser *rp;
static se_tape pt, et[NEV];
static se_record pr, er[NEV];
static int hits;

void bench_parse(int tape);
void bench_eval(int tape);

__attribute__((noinline)) void bench_parse(int tape)
{
    char err[256];
    if (tape) {
        if (se_tape_parse(&pt, PROFILE, strlen(PROFILE)))
            abort();
        for (int i = 0; i < NEV; i++)
            if (se_tape_parse(&et[i], EVENTS[i], strlen(EVENTS[i])))
                abort();
        return;
    }
    if (se_record_parse(rp, PROFILE, strlen(PROFILE), &pr, err, sizeof err))
        abort();
    for (int i = 0; i < NEV; i++)
        if (se_record_parse(rp, EVENTS[i], strlen(EVENTS[i]), &er[i], err, sizeof err))
            abort();
}

__attribute__((noinline)) void bench_eval(int tape)
{
    char err[256];
    if (tape) {
        bool match[1];
        const se_tape *ev[NEV] = {&et[0], &et[1], &et[2]};
        if (se_segdefs_eval_tape(d, &pt, ev, NEV, NOW, match, err, sizeof err) != 1)
            abort();
        hits += match[0];
        if (se_segdefs_edit_changes(d, &pt, match))
            abort();
        return;
    }
    json_object *ev[NEV] = {er[0].obj, er[1].obj, er[2].obj};
    if (se_segdefs_apply(d, pr.obj, ev, NEV, NOW, err, sizeof err))
        abort();
    se_record_clear(&pr);
    for (int i = 0; i < NEV; i++)
        se_record_clear(&er[i]);
}

int main(int argc, char **argv)
{
    char err[256];
    int tape = argc > 1 && strcmp(argv[1], "tape") == 0;
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    if (se_segdefs_parse(DEFS, strlen(DEFS), "defs", &d, err, sizeof err) || !(rp = se_rparser_new())) {
        fprintf(stderr, "pql_cost: %s\n", err);
        return 1;
    }
    se_tape_init(&pt);
    for (int i = 0; i < NEV; i++)
        se_tape_init(&et[i]);
    for (int k = 0; k < n; k++) {
        bench_parse(tape);
        bench_eval(tape);
    }
    printf("%d profiles, %s path\n", n, tape ? "tape" : "tree");
    se_tape_free(&pt);
    for (int i = 0; i < NEV; i++)
        se_tape_free(&et[i]);
    se_rparser_free(rp);
    se_segdefs_free(d);
    return 0;
}

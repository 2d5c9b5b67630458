/* Deterministic generator of a store dump with a real store's variety, for the
 * benchmark matrix (tests/bench/matrix.sh).
 *
 *   genmix BYTES SELECTIVITY SEED > dump.ndjson
 *
 * Profiles are written until the output reaches BYTES (whole profiles only).
 * Per profile, its records contiguous as in a store dump:
 *  - 1 to 3 profile fragments: the profile dataset's (identityMap ECID, Email
 *    primary, Phone; person, homeAddress, personalEmail, mobilePhone, loyalty
 *    with an array of programs, subscriptions (an array), segmentMembership
 *    with 1-4 of 40 segments, extSourceSystemAudit, _acp_system_metadata);
 *    about 40 % also have a CRM dataset fragment (a second datasetId, an
 *    extra CRMID identity, loyalty and phone updates, ingestTime as an RFC 3339
 *    string); about 15 % a later update from the profile dataset (new address,
 *    a membership re-qualified);
 *  - half the profiles carry 0-6 ExperienceEvents (page views, product views
 *    with an array of products, purchases), keyed by the same Email;
 *  - 3 % are event-only (no fragment: empty profiles).
 * The benchmark segment TARGET is held (realized) by SELECTIVITY of the
 * profiles; SEG_A, SEG_B, SEG_C (the matrix's three segments) by about 10, 6
 * and 3 %.  Ingest times span 90 days from BASE_MS (2023-11-14T22:13:20Z);
 * qualification times the 60 days before ingest.  Same arguments, same bytes. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET "9f1c6ad2-5b4e-4d8a-b3c7-0e2f4a6b8c01"
#define SEG_A "a0000000-0000-4000-8000-00000000000a"
#define SEG_B "b0000000-0000-4000-8000-00000000000b"
#define SEG_C "c0000000-0000-4000-8000-00000000000c"
#define DS_PROFILE "5c8c3c555033b814b69f947f"
#define DS_CRM "5c8c3c555033b814b69f9480"
#define DS_EVENTS "5c8c3c555033b814b69f9481"
#define BASE_MS 1700000000000LL

static uint64_t rs;
static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rs += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }
static double rf(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static const char *first[] = {"Anna","Bram","Chloe","Daan","Emma","Finn","Greta","Hugo","Iris","Jens",
    "Katrien","Lars","Mila","Noah","Olivia","Pieter","Quinten","Ruth","Sem","Tess","Ugo","Vera","Wout","Xena",
    "Yara","Zoë","José","Renée","Øystein","Łukasz"};
static const char *last[] = {"de Vries","Jansen","Bakker","Visser","Smit","Meijer","Mulder","de Boer",
    "Bos","Vos","Peters","Hendriks","van Leeuwen","Dekker","Brouwer","de Wit","Dijkstra","Smits","Müller","García"};
static const char *city[] = {"Amsterdam","Rotterdam","Utrecht","Eindhoven","Groningen","Tilburg","Almere",
    "Breda","Nijmegen","Haarlem","San Jose","London","Berlin","Paris","Zürich","Kraków"};
static const char *street[] = {"Kerkstraat","Schoolstraat","Molenweg","Dorpsstraat","Stationsweg",
    "Main Street","Market Street","Park Avenue","Bahnhofstraße","Rue de Rivoli"};
static const char *domain[] = {"example.com","mail.example","inbox.test","corp.example.org"};
static const char *tier[] = {"bronze","silver","gold","platinum"};
static const char *program[] = {"miles","shop","fuel","hotel"};
static const char *list[] = {"newsletter","offers","product-news","events","surveys"};
static const char *evtype[] = {"web.webpagedetails.pageViews","commerce.productViews",
    "commerce.productListAdds","commerce.purchases","web.webinteraction.linkClicks"};
static const char *page[] = {"home","search","product","cart","checkout","account","help"};

static char segs[40][37];
static unsigned long long out_bytes;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    if (n > 0)
        out_bytes += (unsigned long long)n;
}

static void uuid(char *o)
{
    uint64_t a = rnd(), b = rnd();
    snprintf(o, 37, "%08" PRIx32 "-%04x-4%03x-%04x-%012" PRIx64, (uint32_t)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff, 0x8000 | ((unsigned)(b >> 48) & 0x3fff),
             (uint64_t)(b & UINT64_C(0xffffffffffff)));
}

static void iso(char *o, size_t n, int64_t ms)
{
    int64_t s = ms / 1000;
    int64_t days = s / 86400, rem = s % 86400;
    /* civil from days (Howard Hinnant) */
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(o, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60), (int)(ms % 1000));
}

static void membership(int64_t ingest, double sel, int extra)
{
    int firstm = 1;
    char q[64];
    emit("\"segmentMembership\":{\"ups\":{");
#define MEMBER(id, st)                                                                                  \
    do {                                                                                                \
        iso(q, sizeof q, ingest - (int64_t)rn(86400 * 60) * 1000);                                      \
        emit("%s\"%s\":{\"status\":\"%s\",\"lastQualificationTime\":\"%s\"}", firstm ? "" : ",", id, st, q); \
        firstm = 0;                                                                                     \
    } while (0)
    if (rf() < sel)
        MEMBER(TARGET, "realized");
    if (rf() < 0.10)
        MEMBER(SEG_A, rn(6) ? "realized" : "exited");
    if (rf() < 0.06)
        MEMBER(SEG_B, rn(6) ? "realized" : "existing");
    if (rf() < 0.03)
        MEMBER(SEG_C, "realized");
    int k = extra + (int)rn(3);
    unsigned start = rn(40);
    for (int s = 0; s < k; s++)
        MEMBER(segs[(start + (unsigned)s * 7) % 40], rn(5) ? "realized" : "exited");
#undef MEMBER
    emit("}}");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: genmix BYTES SELECTIVITY SEED\n");
        return 2;
    }
    unsigned long long want = strtoull(argv[1], NULL, 10);
    double sel = atof(argv[2]);
    rs = strtoull(argv[3], NULL, 10) * 0x2545F4914F6CDD1DULL + 7;
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    for (int i = 0; i < 40; i++)
        uuid(segs[i]);

    for (long p = 0; out_bytes < want; p++) {
        char ecid[40], t1[64], t2[64], t3[64], email[96], phone[16], crmid[24];
        const char *fn = first[rn(30)], *ln = last[rn(20)];
        snprintf(ecid, sizeof ecid, "%019" PRIu64 "%019" PRIu64, rnd() % UINT64_C(10000000000000000000),
                 rnd() % UINT64_C(10000000000000000000));
        snprintf(email, sizeof email, "%c%s.%ld@%s", (char)('a' + rn(26)), ln[0] == 'd' ? "devries" : "user", p,
                 domain[rn(4)]);
        snprintf(phone, sizeof phone, "+316%08u", rn(100000000));
        snprintf(crmid, sizeof crmid, "CRM%09ld", p * 7 + 3);
        int64_t ingest = BASE_MS + (int64_t)rn(86400 * 90) * 1000 + rn(1000);
        int event_only = rn(100) < 3;

        if (!event_only) {
            /* Fragment 1: the profile dataset. */
            iso(t1, sizeof t1, ingest - (int64_t)rn(86400 * 30) * 1000);
            iso(t2, sizeof t2, BASE_MS - (int64_t)rn(86400 * 3650) * 1000);
            emit("{\"identityMap\":{\"ECID\":[{\"id\":\"%s\",\"authenticatedState\":\"ambiguous\",\"primary\":false}],"
                 "\"Email\":[{\"id\":\"%s\",\"authenticatedState\":\"authenticated\",\"primary\":true}],"
                 "\"Phone\":[{\"id\":\"%s\"}]},",
                 ecid, email, phone);
            emit("\"person\":{\"name\":{\"firstName\":\"%s\",\"lastName\":\"%s\",\"fullName\":\"%s %s\"},"
                 "\"birthDate\":\"%04u-%02u-%02u\",\"gender\":\"%s\"},",
                 fn, ln, fn, ln, 1940 + rn(65), 1 + rn(12), 1 + rn(28), rn(2) ? "female" : "male");
            emit("\"homeAddress\":{\"street1\":\"%s %u\",\"city\":\"%s\",\"postalCode\":\"%04u %c%c\","
                 "\"country\":\"Netherlands\",\"countryCode\":\"NL\"},",
                 street[rn(10)], 1 + rn(300), city[rn(16)], 1000 + rn(9000), 'A' + rn(26), 'A' + rn(26));
            emit("\"personalEmail\":{\"address\":\"%s\",\"primary\":true,\"status\":\"active\"},"
                 "\"mobilePhone\":{\"number\":\"%s\",\"primary\":true,\"status\":\"active\"},",
                 email, phone);
            emit("\"loyalty\":{\"tier\":\"%s\",\"points\":%u,\"joinDate\":\"%s\",\"lifetimeValue\":%u.%02u,"
                 "\"programs\":[",
                 tier[rn(4)], rn(50000), t2, rn(10000), rn(100));
            for (unsigned i = 0, np = 1 + rn(3); i < np; i++)
                emit("%s{\"name\":\"%s\",\"points\":%u,\"active\":%s}", i ? "," : "", program[(i + p) % 4],
                     rn(20000), rn(4) ? "true" : "false");
            emit("]},\"subscriptions\":[");
            for (unsigned i = 0, ns = 1 + rn(3); i < ns; i++) {
                iso(t3, sizeof t3, ingest - (int64_t)rn(86400 * 400) * 1000);
                emit("%s{\"list\":\"%s\",\"status\":\"%s\",\"since\":\"%s\"}", i ? "," : "", list[(i * 2 + p) % 5],
                     rn(6) ? "subscribed" : "unsubscribed", t3);
            }
            emit("],");
            membership(ingest, sel, 1);
            emit(",\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"%s\"},"
                 "\"_acp_system_metadata\":{\"ingestTime\":%" PRId64 ",\"datasetId\":\"" DS_PROFILE "\"}}\n",
                 t1, ingest);

            /* Fragment 2: the CRM dataset, with an extra identity. */
            if (rn(10) < 4) {
                iso(t3, sizeof t3, ingest + 3600000 + (int64_t)rn(86400) * 1000);
                emit("{\"identityMap\":{\"CRMID\":[{\"id\":\"%s\",\"authenticatedState\":\"authenticated\"}],"
                     "\"Email\":[{\"id\":\"%s\",\"primary\":true}]},"
                     "\"loyalty\":{\"points\":%u,\"tier\":\"%s\"},\"mobilePhone\":{\"number\":\"%s\"},"
                     "\"person\":{\"name\":{\"courtesyTitle\":\"%s\"}},"
                     "\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"%s\"},"
                     "\"_acp_system_metadata\":{\"ingestTime\":\"%s\",\"datasetId\":\"" DS_CRM "\"}}\n",
                     crmid, email, rn(50000), tier[rn(4)], phone, rn(2) ? "Ms." : "Mr.", t3, t3);
            }
            /* Fragment 3: a later update from the profile dataset. */
            if (rn(100) < 15) {
                int64_t later = ingest + (int64_t)(1 + rn(86400 * 5)) * 1000;
                iso(t3, sizeof t3, later);
                emit("{\"identityMap\":{\"Email\":[{\"id\":\"%s\",\"primary\":true}]},"
                     "\"homeAddress\":{\"street1\":\"%s %u\",\"city\":\"%s\"},",
                     email, street[rn(10)], 1 + rn(300), city[rn(16)]);
                membership(later, sel / 3, 0);
                emit(",\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"%s\"},"
                     "\"_acp_system_metadata\":{\"ingestTime\":%" PRId64 ",\"datasetId\":\"" DS_PROFILE "\"}}\n",
                     t3, later);
            }
        }
        /* ExperienceEvents: half the profiles, 0-6 each (event-only: 1-6). */
        if (event_only || rn(2) == 0) {
            int ne = event_only ? 1 + (int)rn(6) : (int)rn(7);
            for (int e = 0; e < ne; e++) {
                char id[37], ts[64];
                uuid(id);
                int64_t ems = ingest - (int64_t)rn(86400 * 10) * 1000;
                iso(ts, sizeof ts, ems);
                unsigned t = rn(5);
                emit("{\"_id\":\"%s\",\"timestamp\":\"%s\",\"eventType\":\"%s\","
                     "\"identityMap\":{\"ECID\":[{\"id\":\"%s\",\"primary\":false}],\"Email\":[{\"id\":\"%s\",\"primary\":true}]},"
                     "\"web\":{\"webPageDetails\":{\"name\":\"%s\",\"URL\":\"https://shop.example/%s?id=%u\"}}",
                     id, ts, evtype[t], ecid, email, page[rn(7)], page[rn(7)], rn(100000));
                if (t >= 1 && t <= 3) {
                    emit(",\"commerce\":{\"order\":{\"priceTotal\":%u.%02u}},\"productListItems\":[", rn(500), rn(100));
                    for (unsigned i = 0, n = 1 + rn(3); i < n; i++)
                        emit("%s{\"SKU\":\"SKU-%05u\",\"quantity\":%u,\"priceTotal\":%u.%02u}", i ? "," : "",
                             rn(20000), 1 + rn(4), rn(200), rn(100));
                    emit("]");
                }
                emit(",\"_acp_system_metadata\":{\"ingestTime\":%" PRId64 ",\"datasetId\":\"" DS_EVENTS "\"}}\n",
                     ems + 5000);
            }
        }
    }
    return fflush(stdout) != 0;
}

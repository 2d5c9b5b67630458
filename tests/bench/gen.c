/* Deterministic generator of realistic XDM dumps for the benchmark.
 *
 *   gen NPROFILES SELECTIVITY SEED [STITCH] > dump.ndjson
 *
 * Each profile is one profile fragment (person, addresses, e-mail, phone,
 * loyalty, identityMap with ECID/Email/Phone, segmentMembership with
 * 1-3 of 40 segments, _acp_system_metadata, extSourceSystemAudit); a quarter
 * get a second fragment from a CRM dataset and a fifth carry one or two
 * ExperienceEvents.  The benchmark segment (TARGET below) is held, realized,
 * by SELECTIVITY of the profiles.  Records of a profile are contiguous, as in
 * a store dump.  Same arguments, same bytes.
 *
 * STITCH (default 0: none of this, the same bytes as without it) makes a dump
 * for identity stitching (identityGraph pdg): half the profiles get an
 * anonymous web event known only by its ECID (its own key, so a separate
 * profile without pdg), and a STITCH fraction get a fragment from a linking
 * dataset that holds the profile's Email and the previous profile's Phone
 * (chains of households).  Every record stays grouped by its SPEC §3 key, so
 * the same dump serves the job with and without pdg.  About 3.2 distinct
 * identities per profile. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET "9f1c6ad2-5b4e-4d8a-b3c7-0e2f4a6b8c01"

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
static const char *evtype[] = {"web.webpagedetails.pageViews","commerce.productViews",
    "commerce.productListAdds","commerce.purchases","web.webinteraction.linkClicks"};
static const char *page[] = {"home","search","product","cart","checkout","account","help"};

static char segs[40][37];

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

#define BASE_MS 1700000000000LL

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: gen NPROFILES SELECTIVITY SEED [STITCH]\n");
        return 2;
    }
    double stitch = argc == 5 ? atof(argv[4]) : 0;
    char prev_phone[16] = "";
    long n = atol(argv[1]);
    double sel = atof(argv[2]);
    rs = strtoull(argv[3], NULL, 10) * 0x2545F4914F6CDD1DULL + 1;
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    for (int i = 0; i < 40; i++)
        uuid(segs[i]);

    for (long p = 0; p < n; p++) {
        char ecid[40], t1[32], t2[32], t3[32], email[96];
        const char *fn = first[rn(30)], *ln = last[rn(20)];
        snprintf(ecid, sizeof ecid, "%019" PRIu64 "%019" PRIu64, rnd() % UINT64_C(10000000000000000000),
                 rnd() % UINT64_C(10000000000000000000));
        snprintf(email, sizeof email, "%c%s.%ld@%s", (char)('a' + rn(26)), ln[0] == 'd' ? "devries" : "user", p, domain[rn(4)]);
        int64_t ingest = BASE_MS + (int64_t)rn(86400 * 90) * 1000 + rn(1000);
        iso(t1, sizeof t1, ingest - (int64_t)rn(86400 * 30) * 1000);
        iso(t2, sizeof t2, BASE_MS - (int64_t)rn(86400 * 3650) * 1000);
        char phone[16];
        snprintf(phone, sizeof phone, "+316%08u", rn(100000000));

        /* Fragment 1: the profile dataset. */
        printf("{\"identityMap\":{\"ECID\":[{\"id\":\"%s\",\"authenticatedState\":\"ambiguous\",\"primary\":false}],"
               "\"Email\":[{\"id\":\"%s\",\"authenticatedState\":\"authenticated\",\"primary\":true}],"
               "\"Phone\":[{\"id\":\"%s\"}]},",
               ecid, email, phone);
        printf("\"person\":{\"name\":{\"firstName\":\"%s\",\"lastName\":\"%s\",\"fullName\":\"%s %s\"},"
               "\"birthDate\":\"%04u-%02u-%02u\",\"gender\":\"%s\"},",
               fn, ln, fn, ln, 1940 + rn(65), 1 + rn(12), 1 + rn(28), rn(2) ? "female" : "male");
        printf("\"homeAddress\":{\"street1\":\"%s %u\",\"city\":\"%s\",\"postalCode\":\"%04u %c%c\","
               "\"country\":\"Netherlands\",\"countryCode\":\"NL\"},",
               street[rn(10)], 1 + rn(300), city[rn(16)], 1000 + rn(9000), 'A' + rn(26), 'A' + rn(26));
        printf("\"personalEmail\":{\"address\":\"%s\",\"primary\":true,\"status\":\"active\"},"
               "\"mobilePhone\":{\"number\":\"%s\",\"primary\":true,\"status\":\"active\"},",
               email, phone);
        printf("\"loyalty\":{\"tier\":\"%s\",\"points\":%u,\"joinDate\":\"%s\",\"lifetimeValue\":%u.%02u},",
               tier[rn(4)], rn(50000), t2, rn(10000), rn(100));
        printf("\"segmentMembership\":{\"ups\":{");
        int k = 1 + (int)rn(3), first_seg = 1;
        unsigned start = rn(40);
        if (rf() < sel) {
            char q[32];
            iso(q, sizeof q, ingest - (int64_t)rn(86400 * 20) * 1000);
            printf("\"%s\":{\"status\":\"realized\",\"lastQualificationTime\":\"%s\"}", TARGET, q);
            first_seg = 0;
        }
        for (int s = 0; s < k; s++) {
            char q[32];
            iso(q, sizeof q, ingest - (int64_t)rn(86400 * 60) * 1000);
            printf("%s\"%s\":{\"status\":\"%s\",\"lastQualificationTime\":\"%s\"}", first_seg ? "" : ",",
                   segs[(start + (unsigned)s * 7) % 40], rn(5) ? "realized" : "exited", q);
            first_seg = 0;
        }
        printf("}},\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"%s\"},"
               "\"_acp_system_metadata\":{\"ingestTime\":%" PRId64 ",\"datasetId\":\"5c8c3c555033b814b69f947f\"}}\n",
               t1, ingest);

        /* A second fragment from the CRM dataset. */
        if (rn(4) == 0) {
            iso(t3, sizeof t3, ingest + 3600000);
            printf("{\"identityMap\":{\"Email\":[{\"id\":\"%s\",\"primary\":true}]},"
                   "\"loyalty\":{\"points\":%u,\"tier\":\"%s\"},\"mobilePhone\":{\"number\":\"%s\"},"
                   "\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"%s\"},"
                   "\"_acp_system_metadata\":{\"ingestTime\":\"%s\",\"datasetId\":\"5c8c3c555033b814b69f9480\"}}\n",
                   email, rn(50000), tier[rn(4)], phone, t3, t3);
        }
        /* ExperienceEvents. */
        if (rn(5) == 0) {
            int ne = 1 + (int)rn(2);
            for (int e = 0; e < ne; e++) {
                char id[37], ts[32];
                uuid(id);
                int64_t ems = ingest - (int64_t)rn(86400 * 10) * 1000;
                iso(ts, sizeof ts, ems);
                printf("{\"_id\":\"%s\",\"timestamp\":\"%s\",\"eventType\":\"%s\","
                       "\"identityMap\":{\"ECID\":[{\"id\":\"%s\",\"primary\":false}],\"Email\":[{\"id\":\"%s\",\"primary\":true}]},"
                       "\"web\":{\"webPageDetails\":{\"name\":\"%s\",\"URL\":\"https://shop.example/%s?id=%u\"}},"
                       "\"_acp_system_metadata\":{\"ingestTime\":%" PRId64 ",\"datasetId\":\"5c8c3c555033b814b69f9481\"}}\n",
                       id, ts, evtype[rn(5)], ecid, email, page[rn(7)], page[rn(7)], rn(100000), ems + 5000);
            }
        }
        if (stitch > 0) {
            /* Still under the profile's Email key, then the ECID-only event's own key. */
            if (prev_phone[0] && rf() < stitch)
                printf("{\"identityMap\":{\"Email\":[{\"id\":\"%s\",\"primary\":true}],\"Phone\":[{\"id\":\"%s\"}]},"
                       "\"household\":{\"linked\":true},"
                       "\"_acp_system_metadata\":{\"ingestTime\":%" PRId64 ",\"datasetId\":\"5c8c3c555033b814b69f9482\"}}\n",
                       email, prev_phone, ingest + 1000);
            if (rn(2) == 0) {
                char id[37], ts[32];
                uuid(id);
                iso(ts, sizeof ts, ingest - 7200000);
                printf("{\"_id\":\"%s\",\"timestamp\":\"%s\",\"eventType\":\"web.webpagedetails.pageViews\","
                       "\"identityMap\":{\"ECID\":[{\"id\":\"%s\"}]},"
                       "\"web\":{\"webPageDetails\":{\"name\":\"%s\"}},"
                       "\"_acp_system_metadata\":{\"ingestTime\":%" PRId64 ",\"datasetId\":\"5c8c3c555033b814b69f9481\"}}\n",
                       id, ts, ecid, page[rn(7)], ingest - 7000000);
            }
            memcpy(prev_phone, phone, sizeof phone);
        }
    }
    return fflush(stdout) != 0;
}

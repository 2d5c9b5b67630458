/* One NDJSON line -> one normalized XDM record (SPEC §3): kind, profile key,
 * ingest/update/event times, with the xdm: spellings of the few keys the
 * product reads folded into AEP's unprefixed data form. */
#include "record.h"

#include "jsonscan.h"
#include "recfacts.h"
#include "tape.h"
#include "tapedom.h"
#include "timeutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* json-c's default depth of 32 rejects real-world nested XDM; 512 is far
 * beyond any schema and still keeps json-c's recursive free/serialize shallow. */
enum { SE_JSON_MAX_DEPTH = 512 };

/* Records are read by the tape parser (tape.h).  json-c's tokenizer is only
 * made for a line the tape refuses: the reason of a bad record is worded as
 * it always was, by json-c (the tape accepts exactly what it accepts). */
struct se_rparser {
    se_tape tape;
    json_tokener *tok; /* the wording of bad lines; made when first needed */
};

se_rparser *se_rparser_new(void)
{
    se_rparser *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    se_tape_init(&p->tape);
    return p;
}

void se_rparser_free(se_rparser *p)
{
    if (p == NULL)
        return;
    if (p->tok)
        json_tokener_free(p->tok);
    se_tape_free(&p->tape);
    free(p);
}

void se_record_clear(se_record *rec)
{
    json_object_put(rec->obj);
    /* se_tape_facts may keep dataset_id in key's block, right after it
     * (recfacts.h): then one free releases both.  Keys come from
     * se_key_join_room, whose blocks reach past key + len + 1, so a
     * dataset_id of its own can never start there. */
    bool inline_ds = rec->dataset_id && rec->key && rec->dataset_id == rec->key + strlen(rec->key) + 1;
    if (rec->dataset_id && !inline_ds)
        free(rec->dataset_id);
    if (!rec->key_borrowed)
        free(rec->key);
    memset(rec, 0, sizeof *rec);
}

int se_record_own(se_record *rec)
{
    if (!rec->key_borrowed)
        return 0;
    size_t kn = strlen(rec->key);
    bool inline_ds = rec->dataset_id && rec->dataset_id == rec->key + kn + 1;
    size_t dn = inline_ds ? strlen(rec->dataset_id) + 1 : 1;
    char *k = malloc(kn + 1 + dn);
    if (!k)
        return -1;
    memcpy(k, rec->key, kn + 1 + (inline_ds ? dn : 0));
    if (!inline_ds)
        k[kn + 1] = '\0'; /* past the NUL: see se_record_clear */
    else
        rec->dataset_id = k + kn + 1;
    rec->key = k;
    rec->key_borrowed = false;
    return 0;
}

uint64_t se_fnv1a64_more(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t se_hash64(const char *s, size_t n)
{
    const uint64_t k = 0xbf58476d1ce4e5b9ULL;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)n * k), w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 31;
    }
    if (n) {
        w = 0;
        memcpy(&w, s, n); /* the last 1-7 bytes (the length is in h already) */
        h = (h ^ w) * k;
        h ^= h >> 31;
    }
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

uint64_t se_fnv1a64(const char *s, size_t n)
{
    return se_fnv1a64_more(SE_FNV1A64_INIT, s, n);
}

/* ---- helpers ---------------------------------------------------------- */

static bool is_prefixed(const char *k)
{
    return strncmp(k, "xdm:", 4) == 0;
}

json_object *se_json_get_either(json_object *obj, const char *key, const char *xkey)
{
    json_object *v;
    if (json_object_object_get_ex(obj, key, &v))
        return v;
    if (json_object_object_get_ex(obj, xkey, &v))
        return v;
    return NULL;
}

/* A string without embedded NUL (a C-string view would silently truncate it). */
static const char *clean_string(json_object *v, size_t *len)
{
    if (!json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', n) != NULL)
        return NULL;
    if (len != NULL)
        *len = n;
    return s;
}

/* Copy of obj with every key for which strip(key) holds losing its "xdm:"
 * prefix, in the same order; a prefixed key whose unprefixed twin exists is
 * dropped (the unprefixed one wins).  Values are shared.  NULL on OOM. */
static json_object *rename_keys(json_object *obj, bool (*strip)(const char *))
{
    json_object *out = json_object_new_object();
    if (out == NULL)
        return NULL;
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        json_object *v = json_object_iter_peek_value(&it);
        if (strip(k)) {
            if (json_object_object_get_ex(obj, k + 4, NULL))
                continue;
            k += 4;
        }
        /* Keys stay unique: a renamed key is only added when its twin is absent. */
        if (json_object_object_add_ex(out, k, json_object_get(v),
                                      JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
            json_object_put(v);
            json_object_put(out);
            return NULL;
        }
    }
    return out;
}

static bool needs_strip(json_object *obj, bool (*strip)(const char *))
{
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
        if (strip(json_object_iter_peek_name(&it)))
            return true;
    return false;
}

static bool strip_top(const char *k)
{
    return strcmp(k, "xdm:identityMap") == 0 || strcmp(k, "xdm:segmentMembership") == 0 ||
           strcmp(k, "xdm:timestamp") == 0;
}

static bool strip_identity_item(const char *k)
{
    return strcmp(k, "xdm:id") == 0 || strcmp(k, "xdm:primary") == 0 ||
           strcmp(k, "xdm:authenticatedState") == 0;
}

static bool strip_membership_entry(const char *k)
{
    return is_prefixed(k);
}

/* ---- normalization ---------------------------------------------------- */

/* identityMap given twice: the prefixed map's namespaces/items go after the
 * unprefixed map's. */
static int merge_identity(json_object *u, json_object *p)
{
    if (!json_object_is_type(u, json_type_object) || !json_object_is_type(p, json_type_object))
        return 0;
    json_object_object_foreach(p, ns, items) {
        json_object *have;
        if (!json_object_object_get_ex(u, ns, &have)) {
            if (json_object_object_add(u, ns, json_object_get(items)) != 0) {
                json_object_put(items);
                return -1;
            }
            continue;
        }
        if (!json_object_is_type(have, json_type_array) ||
            !json_object_is_type(items, json_type_array))
            continue;
        size_t n = json_object_array_length(items);
        for (size_t i = 0; i < n; i++) {
            json_object *item = json_object_array_get_idx(items, i);
            if (json_object_array_add(have, json_object_get(item)) != 0) {
                json_object_put(item);
                return -1;
            }
        }
    }
    return 0;
}

/* segmentMembership given twice: namespaces and segments missing from the
 * unprefixed one are taken from the prefixed one. */
static int merge_membership(json_object *u, json_object *p)
{
    if (!json_object_is_type(u, json_type_object) || !json_object_is_type(p, json_type_object))
        return 0;
    json_object_object_foreach(p, ns, segs) {
        json_object *have;
        if (!json_object_object_get_ex(u, ns, &have)) {
            if (json_object_object_add(u, ns, json_object_get(segs)) != 0) {
                json_object_put(segs);
                return -1;
            }
            continue;
        }
        if (!json_object_is_type(have, json_type_object) ||
            !json_object_is_type(segs, json_type_object))
            continue;
        struct json_object_iterator it = json_object_iter_begin(segs);
        struct json_object_iterator end = json_object_iter_end(segs);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *seg = json_object_iter_peek_name(&it);
            json_object *entry = json_object_iter_peek_value(&it);
            if (json_object_object_get_ex(have, seg, NULL))
                continue;
            if (json_object_object_add(have, seg, json_object_get(entry)) != 0) {
                json_object_put(entry);
                return -1;
            }
        }
    }
    return 0;
}

static int normalize_identity_items(json_object *map)
{
    if (!json_object_is_type(map, json_type_object))
        return 0;
    json_object_object_foreach(map, ns, items) {
        (void)ns;
        if (!json_object_is_type(items, json_type_array))
            continue;
        size_t n = json_object_array_length(items);
        for (size_t i = 0; i < n; i++) {
            json_object *item = json_object_array_get_idx(items, i);
            if (!json_object_is_type(item, json_type_object) ||
                !needs_strip(item, strip_identity_item))
                continue;
            json_object *fixed = rename_keys(item, strip_identity_item);
            if (fixed == NULL)
                return -1;
            json_object_array_put_idx(items, i, fixed); /* releases item */
        }
    }
    return 0;
}

static int normalize_membership_entries(json_object *sm)
{
    if (!json_object_is_type(sm, json_type_object))
        return 0;
    json_object_object_foreach(sm, ns, segs) {
        (void)ns;
        if (!json_object_is_type(segs, json_type_object))
            continue;
        struct json_object_iterator it = json_object_iter_begin(segs);
        struct json_object_iterator end = json_object_iter_end(segs);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            json_object *entry = json_object_iter_peek_value(&it);
            if (!json_object_is_type(entry, json_type_object) ||
                !needs_strip(entry, strip_membership_entry))
                continue;
            json_object *fixed = rename_keys(entry, strip_membership_entry);
            if (fixed == NULL)
                return -1;
            /* Replacing an existing key's value keeps its place and the iterator. */
            if (json_object_object_add(segs, json_object_iter_peek_name(&it), fixed) != 0) {
                json_object_put(fixed);
                return -1;
            }
        }
    }
    return 0;
}

int se_record_normalize(json_object **objp)
{
    static const char *const names[][2] = {
        {"identityMap", "xdm:identityMap"},
        {"segmentMembership", "xdm:segmentMembership"},
        {"timestamp", "xdm:timestamp"},
    };
    json_object *obj = *objp;
    bool rename = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_object *u, *p;
        if (!json_object_object_get_ex(obj, names[i][1], &p))
            continue;
        if (!json_object_object_get_ex(obj, names[i][0], &u)) {
            rename = true; /* needs a rebuild to keep the key's position */
            continue;
        }
        int r = 0;
        if (i == 0)
            r = merge_identity(u, p);
        else if (i == 1)
            r = merge_membership(u, p);
        if (r != 0)
            return -1;
        json_object_object_del(obj, names[i][1]);
    }
    if (rename) {
        json_object *fixed = rename_keys(obj, strip_top);
        if (fixed == NULL)
            return -1;
        json_object_put(obj);
        *objp = obj = fixed;
    }
    json_object *v;
    if (json_object_object_get_ex(obj, "identityMap", &v) && normalize_identity_items(v) != 0)
        return -1;
    if (json_object_object_get_ex(obj, "segmentMembership", &v) &&
        normalize_membership_entries(v) != 0)
        return -1;
    return 0;
}

/* ---- profile key ------------------------------------------------------ */

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

/* The bytes a key escapes (TAB LF CR backslash): 1, else 0. */
static const unsigned char key_special[256] = { ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\\'] = 1 };

static size_t escaped_len(const char *s, size_t n)
{
    size_t len = n;
    for (size_t i = 0; i < n; i++)
        len += key_special[(unsigned char)s[i]];
    return len;
}

/* Whether a word may hold a byte below 14 or a backslash (exact SWAR
 * tests: "a byte below 14" and "a byte equal to 0x5c"); the bytes a key
 * escapes are among them. */
static bool word_special(uint64_t v)
{
    uint64_t x = v ^ 0x5c5c5c5c5c5c5c5cULL;
    return (((v - 0x0e0e0e0e0e0e0e0eULL) & ~v) | ((x - 0x0101010101010101ULL) & ~x)) &
           0x8080808080808080ULL;
}

/* Whether s[0..n) may need escaping (false: it certainly does not): eight
 * bytes at a time, the last word overlapping the one before. */
static bool maybe_special(const char *s, size_t n)
{
    uint64_t v;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (key_special[(unsigned char)s[i]])
                return true;
        return false;
    }
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&v, s + i, 8);
        if (word_special(v))
            return true;
    }
    memcpy(&v, s + n - 8, 8);
    return word_special(v);
}

static char *escape_into(char *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        default: *o++ = s[i]; break;
        }
    }
    return o;
}

char *se_identity_key(json_object *identity_map)
{
    if (!json_object_is_type(identity_map, json_type_object))
        return NULL;
    const char *bns = NULL, *bid = NULL;
    size_t bnsn = 0, bidn = 0;
    bool primary = false;
    struct json_object_iterator it = json_object_iter_begin(identity_map);
    struct json_object_iterator end = json_object_iter_end(identity_map);
    for (; !primary && !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *ns = json_object_iter_peek_name(&it);
        json_object *items = json_object_iter_peek_value(&it);
        if (!json_object_is_type(items, json_type_array))
            continue;
        size_t nsn = strlen(ns); /* json-c keys are C strings */
        size_t n = json_object_array_length(items);
        for (size_t i = 0; i < n; i++) {
            json_object *item = json_object_array_get_idx(items, i);
            if (!json_object_is_type(item, json_type_object))
                continue;
            size_t idn;
            const char *id = clean_string(se_json_get_either(item, "id", "xdm:id"), &idn);
            if (id == NULL || idn == 0)
                continue;
            json_object *pv = se_json_get_either(item, "primary", "xdm:primary");
            bool is_primary = json_object_is_type(pv, json_type_boolean) &&
                              json_object_get_boolean(pv);
            if (is_primary || bid == NULL ||
                cmp_bytes(ns, nsn, bns, bnsn) < 0 ||
                (cmp_bytes(ns, nsn, bns, bnsn) == 0 && cmp_bytes(id, idn, bid, bidn) < 0)) {
                bns = ns;
                bnsn = nsn;
                bid = id;
                bidn = idn;
            }
            if (is_primary) {
                primary = true;
                break;
            }
        }
    }
    if (bid == NULL)
        return NULL;
    return se_key_join(bns, bnsn, bid, bidn);
}

char *se_key_join_room(se_keyspace *ks, const char *ns, size_t nsn, const char *id, size_t idn,
                       size_t room, size_t *lenp, bool *borrowed)
{
    bool plain = !maybe_special(ns, nsn) && !maybe_special(id, idn);
    size_t len = plain ? nsn + 1 + idn : escaped_len(ns, nsn) + 1 + escaped_len(id, idn);
    /* At least one byte past the NUL: key + len + 1 is then inside this
     * block, where no other block can start (se_record_clear relies on
     * it). */
    size_t need = len + 1 + (room ? room : 1);
    char *key;
    *borrowed = ks && ks->cap - ks->len >= need;
    if (*borrowed) {
        key = ks->p + ks->len;
        ks->len += need;
    } else if (!(key = malloc(need))) {
        return NULL;
    }
    if (lenp)
        *lenp = len;
    if (len == nsn + 1 + idn) { /* nothing to escape */
        memcpy(key, ns, nsn);
        key[nsn] = ':';
        memcpy(key + nsn + 1, id, idn);
        key[len] = '\0';
        return key;
    }
    char *o = escape_into(key, ns, nsn);
    *o++ = ':';
    o = escape_into(o, id, idn);
    *o = '\0';
    return key;
}

char *se_key_join(const char *ns, size_t nsn, const char *id, size_t idn)
{
    bool borrowed;
    return se_key_join_room(NULL, ns, nsn, id, idn, 0, NULL, &borrowed);
}

/* ---- parse ------------------------------------------------------------ */

static bool json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* json-c's words ("null expected") describe its parser, not the input: say
 * what is wrong with the line, and hint at NDJSON when the line looks like
 * the first line of pretty-printed (multi-line) JSON. */
static void bad_json(const char *data, size_t len, enum json_tokener_error jerr, char *err,
                     size_t errlen)
{
    size_t i = 0, n;

    while (i < len && json_ws(data[i]))
        i++;
    if (jerr == json_tokener_continue) {
        /* "{" or "[" alone: the first line of a pretty-printed document
         * (jq, json.dumps(indent=...)), not a record cut short. */
        size_t e = len;
        while (e > i && json_ws(data[e - 1]))
            e--;
        if (e == i + 1 && (data[i] == '{' || data[i] == '['))
            snprintf(err, errlen, "malformed JSON: the line ends inside a value "
                     "(input must be one JSON record per line, not pretty-printed JSON)");
        else
            snprintf(err, errlen, "malformed JSON: unexpected end of input");
        return;
    }
    if (i < len && data[i] != '{' && data[i] != '[' && data[i] != '"' &&
        (jerr == json_tokener_error_parse_null || jerr == json_tokener_error_parse_boolean ||
         jerr == json_tokener_error_parse_number || jerr == json_tokener_error_parse_unexpected)) {
        /* the line does not start like JSON at all: quote its start */
        for (n = 0; i + n < len && n < 24 && data[i + n] != '"' && data[i + n] != '\\' && data[i + n] != '\'' &&
                    (unsigned char)data[i + n] >= 0x20 && (unsigned char)data[i + n] < 0x7f; n++)
            ;
        snprintf(err, errlen, "not JSON: '%.*s%s' (input must be one JSON object per line)",
                 (int)n, data + i, i + n < len ? "..." : "");
        return;
    }
    snprintf(err, errlen, "malformed JSON: %s", json_tokener_error_desc(jerr));
}

/* The reason json-c and the hazard scan give for a line: the wording of a
 * line the tape refused. */
static void refusal_reason(se_rparser *p, const char *data, size_t len, char *err, size_t errlen)
{
    json_object *obj = NULL;
    if (len > INT_MAX) {
        snprintf(err, errlen, "malformed JSON: record too long");
        return;
    }
    if (!p->tok) {
        p->tok = json_tokener_new_ex(SE_JSON_MAX_DEPTH);
        if (!p->tok) {
            snprintf(err, errlen, "out of memory");
            return;
        }
        /* Strict: no comments, trailing commas or trailing garbage; and the
         * input must be UTF-8, since rows are written back out as JSON. */
        json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    }
    json_tokener_reset(p->tok);
    obj = json_tokener_parse_ex(p->tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(p->tok);
    if (jerr == json_tokener_success) {
        for (size_t i = json_tokener_get_parse_end(p->tok); i < len; i++) {
            if (!json_ws(data[i])) {
                snprintf(err, errlen, "malformed JSON: unexpected data after the value");
                goto out;
            }
        }
    } else if (jerr == json_tokener_continue) {
        /* A bare number is only complete once something follows it. */
        obj = json_tokener_parse_ex(p->tok, " ", 1);
        jerr = json_tokener_get_error(p->tok);
    }
    if (jerr != json_tokener_success) {
        bad_json(data, len, jerr, err, errlen);
        goto out;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(err, errlen, "not a JSON object");
        goto out;
    }
    /* json-c clamps integers beyond 64 bits and cuts keys at \u0000: refuse
     * the record rather than export changed data. */
    const char *hazard;
    size_t hazard_off;
    if (se_json_hazard(data, len, &hazard, &hazard_off) != 0) {
        snprintf(err, errlen, "%s", hazard);
        goto out;
    }
    /* The tape's own reason (it refuses only what the above does). */
    snprintf(err, errlen, "malformed JSON: %s", p->tape.why ? p->tape.why : "refused");
out:
    json_object_put(obj);
}

int se_record_facts(se_rparser *p, const char *data, size_t len, se_record *rec,
                    char *err, size_t errlen)
{
    memset(rec, 0, sizeof *rec);
    if (len > INT_MAX) {
        snprintf(err, errlen, "malformed JSON: record too long");
        return -1;
    }
    int r = se_tape_parse(&p->tape, data, len);
    if (r == SE_TAPE_NOMEM) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (r != SE_TAPE_OK) {
        refusal_reason(p, data, len, err, errlen);
        return -1;
    }
    if (se_tape_tok(&p->tape, 0)->kind != SE_TK_OBJ) {
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    if (p->tape.notjson) {
        /* json-c takes NaN, Infinity, -01, 1. - and would print them back
         * as they are: rows that are not JSON.  Refused instead. */
        const se_tok *t = se_tape_tok(&p->tape, p->tape.notjson - 1);
        snprintf(err, errlen, "malformed JSON: '%.*s%s' is not a JSON number", t->len > 24 ? 24 : (int)t->len,
                 se_tape_raw(&p->tape, p->tape.notjson - 1), t->len > 24 ? "..." : "");
        return -1;
    }
    if (se_tape_facts(&p->tape, rec, err, errlen) != 0) {
        se_record_clear(rec);
        return -1;
    }
    return 0;
}

const se_tape *se_rparser_tape(const se_rparser *p)
{
    return &p->tape;
}

int se_record_tree(se_rparser *p, se_record *rec, char *err, size_t errlen)
{
    bool oom = false;
    json_object *obj = se_tape_to_json(&p->tape, 0, &oom);
    if (oom || se_record_normalize(&obj) != 0) {
        json_object_put(obj);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* System data: read as a fact, never written to rows or events. */
    json_object_object_del(obj, "_acp_system_metadata");
    rec->obj = obj;
    return 0;
}

int se_record_parse(se_rparser *p, const char *data, size_t len, se_record *rec,
                    char *err, size_t errlen)
{
    if (se_record_facts(p, data, len, rec, err, errlen) != 0)
        return -1;
    if (se_record_tree(p, rec, err, errlen) != 0) {
        se_record_clear(rec);
        return -1;
    }
    return 0;
}

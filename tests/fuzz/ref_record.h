/* The reference record reader: the straightforward json-c path the engine
 * used before the tape (json-c parse, hazard scan, normalization, facts read
 * from the tree).  tests/fuzz/fuzz_record.c holds se_record_parse to it:
 * same verdict, same reason, same key, kind, times, datasetId and tree. */
#ifndef SEGEXPORT_REF_RECORD_H
#define SEGEXPORT_REF_RECORD_H
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "jsonscan.h"
#include "record.h"
#include "timeutil.h"

static const char *ref_clean_string(json_object *v, size_t *len)
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

static bool ref_get_ms(json_object *v, int64_t *ms)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t x = json_object_get_int64(v);
        if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
            return false;
        *ms = x;
        return true;
    }
    const char *s = ref_clean_string(v, NULL);
    return s != NULL && se_time_parse(s, ms) == 0;
}

static bool ref_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first number outside strings in a text json-c took (so it is
 * well-formed) that RFC 8259 does not: NaN, Infinity, a leading zero, a bare
 * dot.  Written apart from the tape, by the rule itself. */
static bool ref_first_notjson(const char *d, size_t n, size_t *off, size_t *len)
{
    for (size_t i = 0; i < n;) {
        char c = d[i];
        if (c == '"') {
            for (i++; i < n && d[i] != '"'; i++)
                if (d[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (c == 'N' || c == 'I' || (c == '-' && i + 1 < n && d[i + 1] == 'I')) {
            *off = i;
            *len = c == 'N' ? 3 : c == 'I' ? 8 : 9;
            return true;
        }
        if (c != '-' && !(c >= '0' && c <= '9') && c != '.') {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && (strchr("0123456789+-.eE", d[i]) != NULL))
            i++;
        /* -?(0|[1-9]D*)(.D+)?([eE][+-]?D+)? */
        size_t k = s;
        bool ok = true;
        if (d[k] == '-')
            k++;
        if (k >= i || !(d[k] >= '0' && d[k] <= '9'))
            ok = false;
        else if (d[k] == '0')
            k++;
        else
            while (k < i && d[k] >= '0' && d[k] <= '9')
                k++;
        if (ok && k < i && d[k] == '.') {
            size_t f = ++k;
            while (k < i && d[k] >= '0' && d[k] <= '9')
                k++;
            ok = k > f;
        }
        if (ok && k < i && (d[k] == 'e' || d[k] == 'E')) {
            k++;
            if (k < i && (d[k] == '+' || d[k] == '-'))
                k++;
            size_t f = k;
            while (k < i && d[k] >= '0' && d[k] <= '9')
                k++;
            ok = k > f;
        }
        if (!ok || k != i) {
            *off = s;
            *len = i - s;
            return true;
        }
    }
    return false;
}

/* json-c's words ("null expected") describe its parser, not the input: say
 * what is wrong with the line, and hint at NDJSON when the line looks like
 * the first line of pretty-printed (multi-line) JSON. */
static void ref_bad_json(const char *data, size_t len, enum json_tokener_error jerr, char *err,
                     size_t errlen)
{
    size_t i = 0, n;

    while (i < len && ref_ws(data[i]))
        i++;
    if (jerr == json_tokener_continue) {
        /* "{" or "[" alone: the first line of a pretty-printed document,
         * not a record cut short. */
        size_t e = len;
        while (e > i && ref_ws(data[e - 1]))
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

/* 0 and *rec, or -1 and err (the record reader's reasons). */
__attribute__((unused)) static int ref_record_parse(const char *data, size_t len, se_record *rec,
                                                     char *err, size_t errlen)
{
    json_tokener *tok = json_tokener_new_ex(512);
    json_object *obj = NULL, *v = NULL, *meta;
    memset(rec, 0, sizeof *rec);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    if (len > INT_MAX) {
        snprintf(err, errlen, "malformed JSON: record too long");
        goto bad;
    }
    obj = json_tokener_parse_ex(tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_success) {
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
            if (!ref_ws(data[i])) {
                snprintf(err, errlen, "malformed JSON: unexpected data after the value");
                goto bad;
            }
        }
    } else if (jerr == json_tokener_continue) {
        obj = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
    }
    if (jerr != json_tokener_success) {
        ref_bad_json(data, len, jerr, err, errlen);
        goto bad;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(err, errlen, "not a JSON object");
        goto bad;
    }
    const char *hazard;
    size_t hazard_off;
    if (se_json_hazard(data, len, &hazard, &hazard_off) != 0) {
        snprintf(err, errlen, "%s", hazard);
        goto bad;
    }
    size_t nj_off, nj_len;
    if (ref_first_notjson(data, len, &nj_off, &nj_len)) {
        snprintf(err, errlen, "malformed JSON: '%.*s%s' is not a JSON number", nj_len > 24 ? 24 : (int)nj_len,
                 data + nj_off, nj_len > 24 ? "..." : "");
        goto bad;
    }
    if (se_record_normalize(&obj) != 0)
        abort();
    rec->obj = obj;
    obj = NULL;
    json_object_object_get_ex(rec->obj, "identityMap", &v);
    rec->key = se_identity_key(v);
    if (rec->key == NULL) {
        snprintf(err, errlen, "no identity");
        goto bad;
    }
    if (json_object_object_get_ex(rec->obj, "_acp_system_metadata", &meta) &&
        json_object_is_type(meta, json_type_object)) {
        if (json_object_object_get_ex(meta, "ingestTime", &v)) {
            if (!ref_get_ms(v, &rec->ingest_ms)) {
                snprintf(err, errlen, "invalid _acp_system_metadata.ingestTime");
                goto bad;
            }
            rec->has_ingest = true;
        }
        const char *ds;
        if (json_object_object_get_ex(meta, "datasetId", &v) && (ds = ref_clean_string(v, NULL)) != NULL)
            if (!(rec->dataset_id = strdup(ds)))
                abort();
    }
    json_object_object_del(rec->obj, "_acp_system_metadata");
    if (json_object_object_get_ex(rec->obj, "timestamp", &v)) {
        rec->kind = SE_REC_EVENT;
        if (!ref_get_ms(v, &rec->ts_ms)) {
            snprintf(err, errlen, "invalid timestamp");
            goto bad;
        }
        rec->has_ts = true;
    } else {
        rec->kind = SE_REC_PROFILE;
    }
    json_object *audit = NULL, *lud = NULL;
    if (json_object_object_get_ex(rec->obj, "extSourceSystemAudit", &audit) &&
        json_object_is_type(audit, json_type_object) &&
        json_object_object_get_ex(audit, "lastUpdatedDate", &lud)) {
        const char *s = ref_clean_string(lud, NULL);
        if (s != NULL && se_time_parse(s, &rec->updated_ms) == 0)
            rec->has_updated = true;
    }
    json_tokener_free(tok);
    return 0;
bad:
    json_tokener_free(tok);
    json_object_put(obj);
    se_record_clear(rec);
    return -1;
}

/* NULL when se_record_parse and the reference agree on the line. */
__attribute__((unused)) static const char *ref_record_compare(se_rparser *rp, const char *data, size_t len)
{
    se_record a, b;
    char ea[512] = "", eb[512] = "";
    int ra = se_record_parse(rp, data, len, &a, ea, sizeof ea);
    int rb = ref_record_parse(data, len, &b, eb, sizeof eb);
    const char *diff = NULL;
    const int fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    if (ra != rb)
        diff = ra ? "the record reader refuses, the reference accepts" : "the record reader accepts, the reference refuses";
    else if (ra != 0 && strcmp(ea, eb) != 0)
        diff = "a different reason";
    else if (ra == 0 && strcmp(a.key, b.key) != 0)
        diff = "a different key";
    else if (ra == 0 && (a.kind != b.kind || a.has_ingest != b.has_ingest || a.ingest_ms != b.ingest_ms ||
                         a.has_ts != b.has_ts || a.ts_ms != b.ts_ms || a.has_updated != b.has_updated ||
                         a.updated_ms != b.updated_ms))
        diff = "different kind or times";
    else if (ra == 0 && ((a.dataset_id == NULL) != (b.dataset_id == NULL) ||
                         (a.dataset_id && strcmp(a.dataset_id, b.dataset_id) != 0)))
        diff = "a different datasetId";
    else if (ra == 0 && strcmp(json_object_to_json_string_ext(a.obj, fl), json_object_to_json_string_ext(b.obj, fl)) != 0)
        diff = "a different tree";
    if (diff)
        fprintf(stderr, "record: %s (\"%s\" / \"%s\")\n", diff, ea, eb);
    se_record_clear(&a);
    se_record_clear(&b);
    return diff;
}
#endif

/* File and line for messages about JSON files (see joblocate.h), and the
 * near-miss suggestions for unknown job keys. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "joblocate.h"
#include "suggest.h"

static size_t ws(const char *t, size_t len, size_t i)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

/* Index just past the string that starts at t[i] == '"'. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
    for (i++; i < len && t[i] != '"'; i++)
        if (t[i] == '\\')
            i++;
    return i < len ? i + 1 : len;
}

/* Index just past the value at t[i]. */
static size_t skip_value(const char *t, size_t len, size_t i)
{
    size_t depth = 0;

    i = ws(t, len, i);
    do {
        if (i >= len)
            return len;
        if (t[i] == '"') {
            i = skip_string(t, len, i);
            continue;
        }
        if (t[i] == '{' || t[i] == '[')
            depth++;
        else if (t[i] == '}' || t[i] == ']')
            depth--;
        else if (depth == 0) { /* a number or literal: up to a delimiter */
            while (i < len && !strchr(",}] \t\r\n", t[i]))
                i++;
            return i;
        }
        i++;
    } while (depth > 0);
    return i;
}

/* Offset of the member value named key[0..klen) in the object at t[i], or
 * (size_t)-1. */
static size_t member(const char *t, size_t len, size_t i, const char *key, size_t klen)
{
    i = ws(t, len, i);
    if (i >= len || t[i] != '{')
        return (size_t)-1;
    i = ws(t, len, i + 1);
    while (i < len && t[i] == '"') {
        size_t ks = i + 1, ke = skip_string(t, len, i) - 1;
        bool match = ke - ks == klen && !memcmp(t + ks, key, klen);
        i = ws(t, len, ke + 1);
        if (i >= len || t[i] != ':')
            return (size_t)-1;
        i = ws(t, len, i + 1);
        if (match)
            return i;
        i = ws(t, len, skip_value(t, len, i));
        if (i < len && t[i] == ',')
            i = ws(t, len, i + 1);
    }
    return (size_t)-1;
}

static size_t element(const char *t, size_t len, size_t i, size_t n)
{
    i = ws(t, len, i);
    if (i >= len || t[i] != '[')
        return (size_t)-1;
    i = ws(t, len, i + 1);
    for (size_t k = 0; i < len && t[i] != ']'; k++) {
        if (k == n)
            return i;
        i = ws(t, len, skip_value(t, len, i));
        if (i < len && t[i] == ',')
            i = ws(t, len, i + 1);
    }
    return (size_t)-1;
}

size_t se_json_path_line(const char *text, size_t len, const char *path)
{
    size_t at = ws(text, len, 0), line = 1;
    const char *p = path;

    if (at >= len)
        return 0;
    while (*p) {
        size_t next;
        if (*p == '[') {
            char *end;
            unsigned long long n = strtoull(p + 1, &end, 10);
            if (*end != ']')
                break;
            next = element(text, len, at, (size_t)n);
            p = end + 1;
        } else {
            size_t klen = strcspn(p, ".[");
            next = member(text, len, at, p, klen);
            p += klen;
        }
        if (next == (size_t)-1)
            break;
        at = next;
        if (*p == '.')
            p++;
    }
    for (size_t i = 0; i < at; i++)
        line += text[i] == '\n';
    return line;
}

void se_json_locate_error(const char *name, const char *text, size_t len, const char *err,
                          char *out, size_t outlen)
{
    static const char mal[] = "malformed JSON at line ";
    size_t plen;

    if (!strncmp(err, mal, sizeof mal - 1)) {
        char *end;
        unsigned long long line = strtoull(err + sizeof mal - 1, &end, 10);
        if (end[0] == ':' && end[1] == ' ') {
            snprintf(out, outlen, "%s:%llu: malformed JSON: %s", name, line, end + 2);
            return;
        }
    }
    /* "json.path: why": the path is made of key characters, dots and [N]. */
    const char *colon = strstr(err, ": ");
    plen = colon ? (size_t)(colon - err) : 0;
    if (plen > 0 && plen < 512 &&
        strspn(err, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.[]-") == plen) {
        char path[512];
        size_t line;
        snprintf(path, sizeof path, "%.*s", (int)plen, err);
        if ((line = se_json_path_line(text, len, path)) > 0) {
            snprintf(out, outlen, "%s:%zu: %s", name, line, err);
            return;
        }
    }
    if (!strncmp(err, "not a JSON object", 17) && text) {
        size_t line = 1, i = ws(text, len, 0);
        for (size_t k = 0; k < i; k++)
            line += text[k] == '\n';
        snprintf(out, outlen, "%s:%zu: %s", name, line, err);
        return;
    }
    snprintf(out, outlen, "%s: %s", name, err);
}

/* 'segment "ID"...' of a segment definitions file: the JSON path of that
 * segment's expression, into path; false when it is not found. */
static bool segment_path(const char *text, size_t len, const char *why, char *path, size_t plen)
{
    static const char pre[] = "segment \"";
    const char *id = why + sizeof pre - 1, *end;
    json_tokener *tok;
    json_object *root, *arr = NULL;
    bool found = false;

    if (strncmp(why, pre, sizeof pre - 1) || !(end = strchr(id, '"')) || len > INT32_MAX ||
        !(tok = json_tokener_new()))
        return false;
    root = json_tokener_parse_ex(tok, text, (int)len);
    json_tokener_free(tok);
    if (json_object_is_type(root, json_type_array))
        arr = root;
    else if (!json_object_object_get_ex(root, "segments", &arr) ||
             !json_object_is_type(arr, json_type_array))
        arr = NULL;
    for (size_t i = 0; arr && i < json_object_array_length(arr) && !found; i++) {
        json_object *v;
        if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "id", &v) &&
            json_object_is_type(v, json_type_string) &&
            (size_t)(end - id) == strlen(json_object_get_string(v)) &&
            !strncmp(json_object_get_string(v), id, (size_t)(end - id))) {
            snprintf(path, plen, "%s[%zu].expression.value", arr == root ? "" : "segments", i);
            found = true;
        }
    }
    json_object_put(root);
    return found;
}

void se_json_locate_defs_error(const char *name, const char *text, size_t len, const char *err,
                               char *out, size_t outlen)
{
    size_t nlen = strlen(name), line;
    char jpath[128];

    if (strncmp(err, name, nlen) || err[nlen] != ':' || err[nlen + 1] != ' ') {
        snprintf(out, outlen, "%s", err);
        return;
    }
    err += nlen + 2;
    if (segment_path(text, len, err, jpath, sizeof jpath) &&
        (line = se_json_path_line(text, len, jpath)) > 0)
        snprintf(out, outlen, "%s:%zu: %s", name, line, err);
    else
        se_json_locate_error(name, text, len, err, out, outlen);
}

/* The keys a job definition has, per object ("[]": any element). */
static const struct {
    const char *parent;
    const char *keys[8];
} known[] = {
    { "", { "fields", "mergePolicy", "filter", "additionalFields", "destination", "schema",
            "evaluationInfo" } },
    { "filter", { "segments", "segmentQualificationTime", "fromIngestTimestamp", "emptyProfiles" } },
    { "filter.segments[]", { "segmentId", "segmentNs", "status" } },
    { "filter.segmentQualificationTime", { "startTime", "endTime" } },
    { "additionalFields", { "eventList" } },
    { "additionalFields.eventList", { "fields", "filter" } },
    { "additionalFields.eventList.filter", { "fromIngestTimestamp", "toIngestTimestamp" } },
    { "destination", { "datasetId", "segmentPerBatch" } },
    { "schema", { "name" } },
    { "evaluationInfo", { "segmentation" } },
    { "mergePolicy", { "id", "version" } },
};
#define NKNOWN (sizeof known / sizeof known[0])

const char *se_job_key_suggest(const char *path, char *buf, size_t buflen)
{
    char parent[256], norm[256];
    const char *key = strrchr(path, '.'), *s;
    size_t plen = key ? (size_t)(key - path) : 0, o = 0;

    key = key ? key + 1 : path;
    if (plen >= sizeof parent)
        return NULL;
    memcpy(parent, path, plen);
    parent[plen] = '\0';
    /* filter.segments[3] -> filter.segments[] */
    for (size_t i = 0; i < plen && o + 1 < sizeof norm; i++) {
        norm[o++] = parent[i];
        if (parent[i] == '[') {
            while (i + 1 < plen && parent[i + 1] != ']')
                i++;
        }
    }
    norm[o] = '\0';
    for (size_t i = 0; i < NKNOWN; i++) {
        if (strcmp(known[i].parent, norm))
            continue;
        if ((s = se_suggest(key, known[i].keys, sizeof known[i].keys / sizeof known[i].keys[0]))) {
            snprintf(buf, buflen, "%s%s%s", parent, *parent ? "." : "", s);
            return buf;
        }
    }
    /* A top-level key that belongs in an object (dataSetId): a key of the
     * same spelling, case aside, in one of them.  Only at the top level: a
     * key of one object is rarely meant for another (schema.version is not
     * mergePolicy.version). */
    for (size_t i = 0; i < NKNOWN && !*parent; i++) {
        for (size_t k = 0; k < sizeof known[i].keys / sizeof known[i].keys[0]; k++) {
            if (known[i].keys[k] && !strchr(known[i].parent, '[') &&
                se_edit_distance(key, known[i].keys[k]) == 0) {
                snprintf(buf, buflen, "%s%s%s", known[i].parent, *known[i].parent ? "." : "",
                         known[i].keys[k]);
                return buf;
            }
        }
    }
    return NULL;
}

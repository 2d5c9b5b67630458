/* A job record file's text (store.h): parsed strictly, or read only for its
 * scope (org and sandbox) when it is damaged. */
#include "store_int.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

/* json-c's default depth (32) is what a job definition is parsed with; the
 * record wraps the job one level deeper, so allow well beyond that. */
#define MAX_DEPTH 128

/* Parses a record file's text.  0 with *rec, or -1 with *why. */
int se_store_parse_record(const char *text, size_t len, json_object **rec, const char **why)
{
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error je;
    size_t end;

    *rec = NULL;
    if (len == 0) {
        *why = "empty file";
        return -1;
    }
    if (strlen(text) != len) {
        *why = "contains a NUL byte";
        return -1;
    }
    if (len > INT_MAX) {
        *why = "too large";
        return -1;
    }
    if (!(tok = json_tokener_new_ex(MAX_DEPTH))) {
        *why = strerror(ENOMEM);
        return -1;
    }
    o = json_tokener_parse_ex(tok, text, (int)len);
    je = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o) {
        *why = je == json_tokener_continue ? "truncated" : json_tokener_error_desc(je);
        return -1;
    }
    for (; end < len; end++) {
        if (!strchr(" \t\r\n", text[end])) {
            json_object_put(o);
            *why = "trailing data after the record";
            return -1;
        }
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        *why = "not a JSON object";
        return -1;
    }
    *rec = o;
    return 0;
}

/* One JSON string at *p (p < end): decoded into a malloc'd string, *p moved
 * past it.  NULL when there is no complete, valid one. */
static char *take_string(const char **p, const char *end)
{
    const char *q = *p;
    char *lit, *val = NULL;
    json_object *o;

    if (q >= end || *q != '"')
        return NULL;
    for (q++; q < end && *q != '"'; q++)
        if (*q == '\\' && ++q >= end)
            return NULL;
    if (q >= end)
        return NULL;
    q++;
    if (!(lit = strndup(*p, (size_t)(q - *p))))
        return NULL;
    o = json_tokener_parse(lit);
    if (o && json_object_is_type(o, json_type_string))
        val = strdup(json_object_get_string(o));
    json_object_put(o);
    free(lit);
    *p = q;
    return val;
}

/* The scope a record's text names, even when the rest is damaged: records
 * begin {"format":N,"org":"...","sandbox":"...". 0 with *org, *sandbox
 * (malloc'd), or -1. */
int se_store_text_scope(const char *text, size_t len, char **org, char **sandbox)
{
    const char *p = text, *end = text + len;
    static const char pre[] = "{\"format\":";

    *org = *sandbox = NULL;
    if (len < sizeof pre - 1 || memcmp(p, pre, sizeof pre - 1) != 0)
        return -1;
    p += sizeof pre - 1;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if ((size_t)(end - p) < 7 || memcmp(p, ",\"org\":", 7) != 0)
        return -1;
    p += 7;
    if (!(*org = take_string(&p, end)))
        return -1;
    if ((size_t)(end - p) < 11 || memcmp(p, ",\"sandbox\":", 11) != 0 ||
        (p += 11, !(*sandbox = take_string(&p, end)))) {
        free(*org);
        *org = NULL;
        return -1;
    }
    return 0;
}


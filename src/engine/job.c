/* job.c -- parsing and validating the job definition (SPEC §2).
 *
 * The input object is walked once, key by key in document order, so the first
 * error reported is the first one a reader of the file meets; required fields
 * that are missing altogether are reported after the walk.  While walking, the
 * normalized definition (def) is built as a fresh object: known keys are copied
 * in the user's order, unknown keys are reported and left out, JSON null is
 * treated as "absent", and defaults are appended at the end of their object. */
#include "job.h"
#include "jsonscan.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

#define DEFAULT_POLICY_ID "timestampOrdered-none-mp"
#define QUOTE_MAX 64 /* longest user value echoed in a message, in bytes */

typedef struct {
    const se_mp_registry *reg;
    se_job *job;
    se_job_warn_fn warn;
    void *warn_ctx;
    char *err;
    size_t errlen;
} pctx;

/* ---- messages --------------------------------------------------------- */

static int fail(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(pctx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int oom(pctx *c)
{
    return fail(c, "out of memory");
}

/* Appends s to buf (capacity n, length *len), escaping what would break a
 * one-line message: quotes, backslashes and control characters.  Stops before
 * max source bytes (never inside a UTF-8 sequence); returns 1 if it stopped
 * early, else 0.  buf stays NUL-terminated. */
static int escape_into(char *buf, size_t n, size_t *len, const char *s, size_t max)
{
    size_t i;
    for (i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        char tmp[8];
        if (i >= max && (ch & 0xC0) != 0x80)
            break;
        if (ch == '"' || ch == '\\')
            snprintf(tmp, sizeof tmp, "\\%c", ch);
        else if (ch == '\n')
            snprintf(tmp, sizeof tmp, "\\n");
        else if (ch == '\t')
            snprintf(tmp, sizeof tmp, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            snprintf(tmp, sizeof tmp, "\\u%04x", ch);
        else
            tmp[0] = (char)ch, tmp[1] = '\0';
        size_t tl = strlen(tmp);
        if (*len + tl >= n)
            break;
        memcpy(buf + *len, tmp, tl + 1);
        *len += tl;
    }
    return s[i] != '\0';
}

/* A user value as it appears in messages: "value", or "valu"... when long. */
static const char *quote(const char *s, char *buf, size_t n)
{
    size_t len = 1;
    buf[0] = '"';
    buf[1] = '\0';
    int cut = escape_into(buf, n - 4, &len, s, QUOTE_MAX);
    snprintf(buf + len, n - len, cut ? "\"..." : "\"");
    return buf;
}

/* Reports an unknown key at parent.key.  -1 only on out of memory. */
static int unknown_key(pctx *c, const char *parent, const char *key)
{
    size_t n, len;
    char *p;

    if (!c->warn)
        return 0;
    n = strlen(parent) + 1 + strlen(key) * 6 + 1; /* worst case: every byte \u00XX */
    if (!(p = malloc(n)))
        return oom(c);
    len = (size_t)snprintf(p, n, "%s%s", parent, *parent ? "." : "");
    escape_into(p, n, &len, key, SIZE_MAX);
    c->warn(p, c->warn_ctx);
    free(p);
    return 0;
}

/* ---- typed field readers ---------------------------------------------- */

static const char *type_name(json_type t)
{
    switch (t) {
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_boolean: return "a boolean";
    case json_type_int: return "an integer";
    default: return "a string";
    }
}

/* -1 with "path: expected a T" unless v has type t. */
static int expect(pctx *c, const char *path, json_object *v, json_type t)
{
    if (json_object_is_type(v, t))
        return 0;
    return fail(c, "%s: expected %s", path, type_name(t));
}

/* Adds val under key in obj, taking the reference.  NULL val (a failed
 * json_object_new_*) counts as out of memory. */
static int put(pctx *c, json_object *obj, const char *key, json_object *val)
{
    if (!val)
        return oom(c);
    if (json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return oom(c);
    }
    return 0;
}

/* Copies the value v (already known to be valid) into def under key. */
static int keep(pctx *c, json_object *def, const char *key, json_object *v)
{
    return put(c, def, key, json_object_get(v));
}

static int dup_string(pctx *c, json_object *v, char **dst)
{
    if (!(*dst = strdup(json_object_get_string(v))))
        return oom(c);
    return 0;
}

/* A required identifier: non-empty string. */
static int req_string(pctx *c, const char *path, json_object *v, char **dst)
{
    if (expect(c, path, v, json_type_string))
        return -1;
    if (json_object_get_string_len(v) == 0)
        return fail(c, "%s: required", path);
    return dup_string(c, v, dst);
}

static int get_bool(pctx *c, const char *path, json_object *v, bool *dst)
{
    if (expect(c, path, v, json_type_boolean))
        return -1;
    *dst = json_object_get_boolean(v) != 0;
    return 0;
}

static int get_time(pctx *c, const char *path, json_object *v, bool *has, int64_t *ms)
{
    char q[QUOTE_MAX * 6 + 8];
    if (expect(c, path, v, json_type_string))
        return -1;
    if (se_time_parse(json_object_get_string(v), ms) != 0)
        return fail(c, "%s: %s is not an RFC 3339 timestamp", path,
                    quote(json_object_get_string(v), q, sizeof q));
    *has = true;
    return 0;
}

/* A field list: kept as given in def, NULL in the struct when only blanks. */
static int get_fields(pctx *c, const char *path, json_object *v, char **dst)
{
    const char *s;
    if (expect(c, path, v, json_type_string))
        return -1;
    for (s = json_object_get_string(v); *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
        ;
    if (*s == '\0')
        return 0;
    return dup_string(c, v, dst);
}

/* ---- sections ----------------------------------------------------------- */

/* Reads a segment's status array into *mask. */
static int parse_status(pctx *c, const char *path, json_object *v, unsigned *mask)
{
    size_t n;

    if (expect(c, path, v, json_type_array))
        return -1;
    if ((n = json_object_array_length(v)) == 0)
        return fail(c, "%s: must not be empty", path);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        char ep[160], q[QUOTE_MAX * 6 + 8];
        const char *s;

        snprintf(ep, sizeof ep, "%s[%zu]", path, i);
        if (expect(c, ep, e, json_type_string))
            return -1;
        s = json_object_get_string(e);
        /* "realized" also matches the legacy status "existing" (SPEC §5). */
        if (strcmp(s, "realized") == 0)
            *mask |= SE_ST_REALIZED | SE_ST_EXISTING;
        else if (strcmp(s, "existing") == 0)
            *mask |= SE_ST_EXISTING;
        else if (strcmp(s, "exited") == 0)
            *mask |= SE_ST_EXITED;
        else
            return fail(c, "%s: %s is not one of realized, existing, exited", ep,
                        quote(s, q, sizeof q));
    }
    return 0;
}

/* Parses filter.segments[idx] into c->job->segs[idx] and appends its
 * normalized form to arr. */
static int parse_segment(pctx *c, size_t idx, json_object *o, json_object *arr)
{
    se_segment *seg = &c->job->segs[idx];
    json_object *st = NULL, *out = NULL;
    char path[96], sub[128];
    int rc = -1;

    snprintf(path, sizeof path, "filter.segments[%zu]", idx);
    if (expect(c, path, o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        if (strcmp(key, "segmentId") == 0) {
            if (val && req_string(c, sub, val, &seg->segment_id))
                return -1;
        } else if (strcmp(key, "segmentNs") == 0) {
            if (!val)
                continue;
            if (expect(c, sub, val, json_type_string))
                return -1;
            if (json_object_get_string_len(val) == 0)
                return fail(c, "%s: must not be empty", sub);
            if (dup_string(c, val, &seg->segment_ns))
                return -1;
        } else if (strcmp(key, "status") == 0) {
            if (val && parse_status(c, sub, val, &seg->status_mask))
                return -1;
            st = val;
        } else if (unknown_key(c, path, key)) {
            return -1;
        }
    }
    if (!seg->segment_id) {
        snprintf(sub, sizeof sub, "%s.segmentId", path);
        return fail(c, "%s: required", sub);
    }
    if (!seg->segment_ns && !(seg->segment_ns = strdup("ups")))
        return oom(c);
    if (!st)
        seg->status_mask = SE_ST_REALIZED | SE_ST_EXISTING;

    /* The normalized entry always reads segmentId, segmentNs, status. */
    if (!(out = json_object_new_object()))
        return oom(c);
    if (put(c, out, "segmentId", json_object_new_string(seg->segment_id)) ||
        put(c, out, "segmentNs", json_object_new_string(seg->segment_ns)))
        goto out;
    if (st) {
        if (keep(c, out, "status", st))
            goto out;
    } else {
        json_object *d = json_object_new_array(), *r;
        if (put(c, out, "status", d))
            goto out;
        /* json_object_array_add() accepts NULL (as JSON null): check first. */
        if (!(r = json_object_new_string("realized")) || json_object_array_add(d, r) != 0) {
            json_object_put(r);
            oom(c);
            goto out;
        }
    }
    if (json_object_array_add(arr, out) != 0) {
        oom(c);
        goto out;
    }
    out = NULL;
    rc = 0;
out:
    json_object_put(out);
    return rc;
}

static int parse_sqt(pctx *c, json_object *o, json_object *def)
{
    const char *path = "filter.segmentQualificationTime";
    se_job *j = c->job;

    if (expect(c, path, o, json_type_object))
        return -1;
    j->has_sqt = true;
    json_object_object_foreach(o, key, val) {
        char sub[64];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        if (strcmp(key, "startTime") == 0) {
            if (val && (get_time(c, sub, val, &j->has_start, &j->start_ms) || keep(c, def, key, val)))
                return -1;
        } else if (strcmp(key, "endTime") == 0) {
            if (val && (get_time(c, sub, val, &j->has_end, &j->end_ms) || keep(c, def, key, val)))
                return -1;
        } else if (unknown_key(c, path, key)) {
            return -1;
        }
    }
    if (j->has_start && j->has_end && j->start_ms > j->end_ms)
        return fail(c, "%s: startTime is after endTime", path);
    return 0;
}

static int parse_filter(pctx *c, json_object *o, json_object *def)
{
    se_job *j = c->job;
    bool seen_empty = false;

    if (expect(c, "filter", o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "segments") == 0) {
            json_object *arr;
            size_t n;
            if (!val)
                continue;
            if (expect(c, "filter.segments", val, json_type_array))
                return -1;
            n = json_object_array_length(val);
            if (n && !(j->segs = calloc(n, sizeof *j->segs)))
                return oom(c);
            if (put(c, def, key, arr = json_object_new_array()))
                return -1;
            for (size_t i = 0; i < n; i++) {
                j->nsegs = i + 1; /* so se_job_free sees a partly filled entry */
                if (parse_segment(c, i, json_object_array_get_idx(val, i), arr))
                    return -1;
            }
        } else if (strcmp(key, "segmentQualificationTime") == 0) {
            json_object *sub;
            if (!val)
                continue;
            if (put(c, def, key, sub = json_object_new_object()) || parse_sqt(c, val, sub))
                return -1;
        } else if (strcmp(key, "fromIngestTimestamp") == 0) {
            if (val && (get_time(c, "filter.fromIngestTimestamp", val, &j->has_from_ingest,
                                 &j->from_ingest_ms) || keep(c, def, key, val)))
                return -1;
        } else if (strcmp(key, "emptyProfiles") == 0) {
            if (!val)
                continue;
            if (get_bool(c, "filter.emptyProfiles", val, &j->empty_profiles) ||
                keep(c, def, key, val))
                return -1;
            seen_empty = true;
        } else if (unknown_key(c, "filter", key)) {
            return -1;
        }
    }
    if (!seen_empty && put(c, def, "emptyProfiles", json_object_new_boolean(0)))
        return -1;
    return 0;
}

static int parse_event_filter(pctx *c, json_object *o, json_object *def)
{
    const char *path = "additionalFields.eventList.filter";
    se_job *j = c->job;

    if (expect(c, path, o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        if (strcmp(key, "fromIngestTimestamp") == 0) {
            if (val && (get_time(c, sub, val, &j->has_ev_from, &j->ev_from_ms) ||
                        keep(c, def, key, val)))
                return -1;
        } else if (strcmp(key, "toIngestTimestamp") == 0) {
            if (val && (get_time(c, sub, val, &j->has_ev_to, &j->ev_to_ms) ||
                        keep(c, def, key, val)))
                return -1;
        } else if (unknown_key(c, path, key)) {
            return -1;
        }
    }
    return 0;
}

static int parse_event_list(pctx *c, json_object *o, json_object *def)
{
    const char *path = "additionalFields.eventList";

    if (expect(c, path, o, json_type_object))
        return -1;
    c->job->has_event_list = true;
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "fields") == 0) {
            if (val && (get_fields(c, "additionalFields.eventList.fields", val,
                                   &c->job->event_fields) || keep(c, def, key, val)))
                return -1;
        } else if (strcmp(key, "filter") == 0) {
            json_object *sub;
            if (val && (put(c, def, key, sub = json_object_new_object()) ||
                        parse_event_filter(c, val, sub)))
                return -1;
        } else if (unknown_key(c, path, key)) {
            return -1;
        }
    }
    return 0;
}

static int parse_additional(pctx *c, json_object *o, json_object *def)
{
    if (expect(c, "additionalFields", o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "eventList") == 0) {
            json_object *sub;
            if (val && (put(c, def, key, sub = json_object_new_object()) ||
                        parse_event_list(c, val, sub)))
                return -1;
        } else if (unknown_key(c, "additionalFields", key)) {
            return -1;
        }
    }
    return 0;
}

/* datasetId names a directory under --output: keep it to a safe alphabet. */
static int valid_dataset_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int parse_destination(pctx *c, json_object *o, json_object *def)
{
    se_job *j = c->job;
    bool seen_spb = false;

    if (expect(c, "destination", o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "datasetId") == 0) {
            const char *p = "destination.datasetId";
            char q[QUOTE_MAX * 6 + 8];
            if (!val)
                continue;
            if (req_string(c, p, val, &j->dataset_id))
                return -1;
            if (!valid_dataset_id(j->dataset_id))
                return fail(c, "%s: %s is not 1-128 characters of [A-Za-z0-9._-]", p,
                            quote(j->dataset_id, q, sizeof q));
            if (keep(c, def, key, val))
                return -1;
        } else if (strcmp(key, "segmentPerBatch") == 0) {
            if (!val)
                continue;
            if (get_bool(c, "destination.segmentPerBatch", val, &j->segment_per_batch) ||
                keep(c, def, key, val))
                return -1;
            seen_spb = true;
        } else if (unknown_key(c, "destination", key)) {
            return -1;
        }
    }
    if (!j->dataset_id)
        return fail(c, "destination.datasetId: required");
    if (!seen_spb && put(c, def, "segmentPerBatch", json_object_new_boolean(0)))
        return -1;
    return 0;
}

static int parse_schema(pctx *c, json_object *o, json_object *def)
{
    if (expect(c, "schema", o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "name") == 0) {
            if (val && (req_string(c, "schema.name", val, &c->job->schema_name) ||
                        keep(c, def, key, val)))
                return -1;
        } else if (unknown_key(c, "schema", key)) {
            return -1;
        }
    }
    if (!c->job->schema_name)
        return fail(c, "schema.name: required");
    return 0;
}

static int parse_evaluation(pctx *c, json_object *o, json_object *def)
{
    bool seen = false;

    if (expect(c, "evaluationInfo", o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "segmentation") == 0) {
            if (!val)
                continue;
            if (get_bool(c, "evaluationInfo.segmentation", val, &c->job->eval_segmentation))
                return -1;
            if (keep(c, def, key, val))
                return -1;
            seen = true;
        } else if (unknown_key(c, "evaluationInfo", key)) {
            return -1;
        }
    }
    if (!seen && put(c, def, "segmentation", json_object_new_boolean(0)))
        return -1;
    return 0;
}

/* Looks the policy up: that version, or (SPEC §4) without one the highest
 * version with that id. */
static int resolve_policy(pctx *c, const char *id, int64_t version, bool seen_version,
                          json_object *def)
{
    const se_mpolicy *p = NULL;
    char q[QUOTE_MAX * 6 + 8];

    if (!seen_version) {
        if (!(p = se_mp_find_latest(c->reg, id)))
            return fail(c, "mergePolicy: unknown merge policy %s", quote(id, q, sizeof q));
        if (put(c, def, "version", json_object_new_int(p->version)))
            return -1;
    } else if (version >= INT_MIN && version <= INT_MAX) {
        p = se_mp_find(c->reg, id, (int)version);
    }
    if (!p)
        return fail(c, "mergePolicy: unknown merge policy %s version %lld", quote(id, q, sizeof q),
                    (long long)version);
    c->job->policy = p;
    return 0;
}

static int parse_merge_policy(pctx *c, json_object *o, json_object *def)
{
    const char *id = NULL;
    int64_t version = 1;
    bool seen_version = false;

    if (expect(c, "mergePolicy", o, json_type_object))
        return -1;
    json_object_object_foreach(o, key, val) {
        if (strcmp(key, "id") == 0) {
            if (!val)
                continue;
            if (expect(c, "mergePolicy.id", val, json_type_string))
                return -1;
            if (json_object_get_string_len(val) == 0)
                return fail(c, "mergePolicy.id: required");
            id = json_object_get_string(val);
            if (keep(c, def, key, val))
                return -1;
        } else if (strcmp(key, "version") == 0) {
            if (!val)
                continue;
            if (expect(c, "mergePolicy.version", val, json_type_int))
                return -1;
            /* Above INT64_MAX json-c keeps a uint64, which would read as INT64_MAX. */
            if (json_object_get_uint64(val) > (uint64_t)INT64_MAX)
                return fail(c, "mergePolicy.version: %s is out of range",
                            json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
            version = json_object_get_int64(val);
            if (keep(c, def, key, val))
                return -1;
            seen_version = true;
        } else if (unknown_key(c, "mergePolicy", key)) {
            return -1;
        }
    }
    if (!id)
        return fail(c, "mergePolicy.id: required");
    return resolve_policy(c, id, version, seen_version, def);
}

/* Parses one section value v (not JSON null) of the root into a new object
 * added to def under key.  fn fills that object. */
static int section(pctx *c, json_object *def, const char *key, json_object *v,
                   int (*fn)(pctx *, json_object *, json_object *))
{
    json_object *sub = json_object_new_object();
    if (put(c, def, key, sub))
        return -1;
    return fn(c, v, sub);
}

static int parse_root(pctx *c, json_object *root, json_object *def)
{
    se_job *j = c->job;
    bool seen_mp = false, seen_filter = false, seen_dest = false, seen_schema = false;

    if (!json_object_is_type(root, json_type_object))
        return fail(c, "not a JSON object (a job definition is the JSON object of a POST /export/jobs body)");
    json_object_object_foreach(root, key, val) {
        int rc = 0;
        if (strcmp(key, "fields") == 0) {
            if (val)
                rc = get_fields(c, "fields", val, &j->fields) || keep(c, def, key, val);
        } else if (strcmp(key, "mergePolicy") == 0) {
            if ((seen_mp = val != NULL))
                rc = section(c, def, key, val, parse_merge_policy);
        } else if (strcmp(key, "filter") == 0) {
            if ((seen_filter = val != NULL))
                rc = section(c, def, key, val, parse_filter);
        } else if (strcmp(key, "additionalFields") == 0) {
            if (val)
                rc = section(c, def, key, val, parse_additional);
        } else if (strcmp(key, "destination") == 0) {
            if ((seen_dest = val != NULL))
                rc = section(c, def, key, val, parse_destination);
        } else if (strcmp(key, "schema") == 0) {
            if ((seen_schema = val != NULL))
                rc = section(c, def, key, val, parse_schema);
        } else if (strcmp(key, "evaluationInfo") == 0) {
            if (val)
                rc = section(c, def, key, val, parse_evaluation);
        } else {
            rc = unknown_key(c, "", key);
        }
        if (rc)
            return -1;
    }
    if (!seen_dest)
        return fail(c, "destination.datasetId: required");
    if (!seen_schema)
        return fail(c, "schema.name: required");
    if (!seen_mp) {
        json_object *mp = json_object_new_object();
        if (put(c, def, "mergePolicy", mp) ||
            put(c, mp, "id", json_object_new_string(DEFAULT_POLICY_ID)) ||
            put(c, mp, "version", json_object_new_int(1)) ||
            resolve_policy(c, DEFAULT_POLICY_ID, 1, true, mp))
            return -1;
    }
    if (!seen_filter) {
        json_object *f = json_object_new_object();
        if (put(c, def, "filter", f) || put(c, f, "emptyProfiles", json_object_new_boolean(0)))
            return -1;
    }
    return 0;
}

/* ---- JSON text ---------------------------------------------------------- */

/* Parses text[0..len) as exactly one JSON value (whitespace around it allowed)
 * into *out (NULL for the JSON text "null").  -1 with err set ("malformed JSON
 * at line L: ...") on failure. */
static int parse_text(pctx *c, const char *text, size_t len, json_object **out)
{
    char err[256];
    if (se_json_parse_document(text, len, out, err, sizeof err))
        return fail(c, "%s", err);
    return 0;
}

/* ---- API ---------------------------------------------------------------- */

void se_job_free(se_job *job)
{
    if (!job)
        return;
    json_object_put(job->def);
    free(job->fields);
    free(job->dataset_id);
    free(job->schema_name);
    for (size_t i = 0; i < job->nsegs; i++) {
        free(job->segs[i].segment_id);
        free(job->segs[i].segment_ns);
    }
    free(job->segs);
    free(job->event_fields);
    free(job);
}

int se_job_parse(const char *text, size_t len, const se_mp_registry *reg,
                 se_job **out, se_job_warn_fn warn, void *warn_ctx,
                 char *err, size_t errlen)
{
    pctx c = {reg, NULL, warn, warn_ctx, err, errlen};
    json_object *root = NULL;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (!(c.job = calloc(1, sizeof *c.job))) {
        oom(&c);
        goto out;
    }
    /* A leading UTF-8 BOM (Windows editors write one) is not part of the JSON. */
    if (text && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3;
    if (parse_text(&c, text ? text : "", text ? len : 0, &root))
        goto out;
    if (!(c.job->def = json_object_new_object())) {
        oom(&c);
        goto out;
    }
    if (parse_root(&c, root, c.job->def))
        goto out;
    *out = c.job;
    c.job = NULL;
    rc = 0;
out:
    se_job_free(c.job);
    json_object_put(root);
    return rc;
}

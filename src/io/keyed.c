/* The keyed stream's bad-record line: see keyed.h. */
#include <string.h>
#include <json-c/json.h>
#include "keyed.h"

int se_keyed_bad_write(FILE *f, uint64_t seq, const char *input, uint64_t line, const char *reason)
{
    char sq[24];
    json_object *o = json_object_new_object(), *b = json_object_new_object();
    int rc = -1;

    snprintf(sq, sizeof sq, "%020llu", (unsigned long long)seq);
    if (!o || !b)
        goto out;
    /* Built in this order: json-c keeps insertion order, and seq must come
     * first (it orders the lines in a sort that is not stable). */
    json_object_object_add(b, "seq", json_object_new_string(sq));
    json_object_object_add(b, "input", json_object_new_string(input));
    json_object_object_add(b, "line", json_object_new_int64((int64_t)line));
    json_object_object_add(b, "reason", json_object_new_string(reason));
    json_object_object_add(o, SE_KEYED_BAD, b);
    b = NULL;
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (s && putc('\t', f) != EOF && fputs(s, f) != EOF && putc('\n', f) != EOF)
        rc = 0;
out:
    json_object_put(b);
    json_object_put(o);
    return rc;
}

bool se_keyed_bad_read(const char *rec, size_t len, char *msg, size_t msglen)
{
    json_tokener *tok;
    json_object *o = NULL, *b, *in, *ln, *why;
    bool ok = false;

    if (len > (1u << 20) || !(tok = json_tokener_new()))
        return false;
    o = json_tokener_parse_ex(tok, rec, (int)len);
    if (o && json_tokener_get_parse_end(tok) == len &&
        json_object_object_get_ex(o, SE_KEYED_BAD, &b) && json_object_object_length(o) == 1 &&
        json_object_object_get_ex(b, "input", &in) && json_object_is_type(in, json_type_string) &&
        json_object_object_get_ex(b, "line", &ln) && json_object_is_type(ln, json_type_int) &&
        json_object_get_int64(ln) >= 0 &&
        json_object_object_get_ex(b, "reason", &why) && json_object_is_type(why, json_type_string)) {
        snprintf(msg, msglen, "%s:%lld: %s", json_object_get_string(in),
                 (long long)json_object_get_int64(ln), json_object_get_string(why));
        ok = true;
    }
    json_object_put(o);
    json_tokener_free(tok);
    return ok;
}

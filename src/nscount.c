/* Namespace counts of raw rows; see nscount.h. */
#include "nscount.h"

#include <stdlib.h>
#include <string.h>

enum { NS_CACHE = 32 };

struct se_nscount {
    struct { char *names; size_t len; json_object *map; } c[NS_CACHE];
    size_t n;
    json_object *one;   /* [0]: a non-empty identity array, shared */
};

se_nscount *se_nscount_new(void)
{
    se_nscount *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    if (!(n->one = json_object_new_array()) ||
        json_object_array_add(n->one, json_object_new_int(0)) != 0) {
        json_object_put(n->one);
        free(n);
        return NULL;
    }
    return n;
}

void se_nscount_free(se_nscount *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        free(n->c[i].names);
        json_object_put(n->c[i].map);
    }
    json_object_put(n->one);
    free(n);
}

/* {"NS": [0], ...} for the names. */
static json_object *build(se_nscount *n, const char *names, size_t len)
{
    json_object *map = json_object_new_object();
    if (!map)
        return NULL;
    for (size_t a = 0; a < len;) {
        const char *e = memchr(names + a, '\n', len - a);
        size_t b = e ? (size_t)(e - names) : len;
        char *name = strndup(names + a, b - a);
        if (!name || json_object_object_add(map, name, json_object_get(n->one)) != 0) {
            free(name);
            json_object_put(map);
            return NULL;
        }
        free(name);
        a = b + 1;
    }
    return map;
}

int se_nscount_row(se_nscount *n, se_jobstate *js, const char *names, size_t len)
{
    for (size_t i = 0; i < n->n; i++) {
        if (n->c[i].len == len && !memcmp(n->c[i].names, names, len)) {
            se_jobstate_count_row(js, n->c[i].map);
            return 0;
        }
    }
    json_object *map = build(n, names, len);
    if (!map)
        return -1;
    se_jobstate_count_row(js, map);
    char *copy = n->n < NS_CACHE ? malloc(len + 1) : NULL;
    if (!copy) {
        json_object_put(map); /* a full cache (or no memory for it): not kept */
        return 0;
    }
    memcpy(copy, names, len);
    n->c[n->n].names = copy;
    n->c[n->n].len = len;
    n->c[n->n++].map = map;
    return 0;
}

bool se_nscount_known(const se_jobstate *js, const char *names, size_t len, char **out,
                      size_t *cap, size_t *outlen)
{
    size_t o = 0;
    if (*cap < len + 1) {
        char *nb = realloc(*out, len + 1);
        if (!nb)
            return false;
        *out = nb;
        *cap = len + 1;
    }
    char *d = *out;
    for (size_t a = 0; a < len;) {
        const char *e = memchr(names + a, '\n', len - a);
        size_t b = e ? (size_t)(e - names) : len, l = b - a;
        bool dup = false;
        for (size_t x = 0; x < o && !dup;) {
            const char *f = memchr(d + x, '\n', o - x);
            size_t y = f ? (size_t)(f - d) : o;
            dup = y - x == l && !memcmp(d + x, names + a, l);
            x = y + 1;
        }
        if (!dup) {
            char name[256];
            json_object *v;
            if (l >= sizeof name)
                return false;
            memcpy(name, names + a, l);
            name[l] = '\0';
            if (!json_object_object_get_ex(js->ns_counter, name, &v))
                return false;
            if (o)
                d[o++] = '\n';
            memcpy(d + o, names + a, l);
            o += l;
        }
        a = b + 1;
    }
    *outlen = o;
    return true;
}

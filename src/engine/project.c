/* Field projection (SPEC §6): a comma-separated list of dot paths, compiled into
 * a tree and applied to a JSON object. */
#include "project.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "project_int.h"

static void node_free_kids(pnode *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        node_free_kids(&n->kids[i]);
        free(n->kids[i].name);
    }
    free(n->kids);
    n->kids = NULL;
    n->nkids = n->capkids = 0;
}

void se_proj_free(se_proj *pj)
{
    if (!pj)
        return;
    node_free_kids(&pj->root);
    free(pj);
}

const char *se_proj_top_name(const se_proj *pj, size_t i)
{
    return i < pj->root.nkids ? pj->root.kids[i].name : NULL;
}

/* The child of n named s[0..len), created when missing; NULL on out of memory. */
static pnode *child(pnode *n, const char *s, size_t len)
{
    for (size_t i = 0; i < n->nkids; i++) {
        if (strlen(n->kids[i].name) == len && memcmp(n->kids[i].name, s, len) == 0)
            return &n->kids[i];
    }
    if (n->nkids == n->capkids) {
        size_t nc = n->capkids ? n->capkids * 2 : 4;
        if (nc > SIZE_MAX / sizeof *n->kids)
            return NULL;
        pnode *nk = realloc(n->kids, nc * sizeof *nk);
        if (!nk)
            return NULL;
        n->kids = nk;
        n->capkids = nc;
    }
    char *name = strndup(s, len);
    if (!name)
        return NULL;
    pnode *c = &n->kids[n->nkids++];
    memset(c, 0, sizeof *c);
    c->name = name;
    return c;
}

/* Adds the dot path s[0..len).  Empty components are skipped ("a..b" is
 * "a.b").  A terminal node on the way means a prefix is already selected, and
 * the prefix wins; a path that ends at a node drops what lies below it. */
static int add_path(pnode *root, const char *s, size_t len)
{
    pnode *cur = root;
    size_t i = 0;

    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '.')
            j++;
        if (j > i) {
            if (cur->terminal)
                return 0;
            cur = child(cur, s + i, j - i);
            if (!cur)
                return -1;
        }
        i = j + 1;
    }
    if (cur != root) {
        cur->terminal = true;
        node_free_kids(cur);
    }
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int se_proj_compile(const char *fields, se_proj **out)
{
    int rc = -1;
    se_proj *pj = NULL;

    *out = NULL;
    if (!fields)
        return 0;
    pj = calloc(1, sizeof *pj);
    if (!pj)
        goto out;
    for (const char *p = fields; *p;) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        const char *a = p, *b = e;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (b > a && add_path(&pj->root, a, (size_t)(b - a)) != 0)
            goto out;
        p = *e ? e + 1 : e;
    }
    /* Nothing selected (only blanks, commas or dots): the whole record. */
    if (pj->root.nkids > 0) {
        *out = pj;
        pj = NULL;
    }
    rc = 0;
out:
    if (rc != 0)
        errno = ENOMEM;
    se_proj_free(pj);
    return rc;
}

static const pnode *find_kid(const pnode *n, const char *key)
{
    for (size_t i = 0; i < n->nkids; i++)
        if (strcmp(n->kids[i].name, key) == 0)
            return &n->kids[i];
    return NULL;
}

static int proj_object(const pnode *n, json_object *src, json_object **out);

/* Projects a non-terminal node onto v.  *out is NULL when nothing is selected
 * (scalars, empty results).  -1 on out of memory. */
static int proj_value(const pnode *n, json_object *v, json_object **out);

static int proj_array(const pnode *n, json_object *src, json_object **out)
{
    json_object *res = NULL;
    size_t len = json_object_array_length(src);

    *out = NULL;
    for (size_t i = 0; i < len; i++) {
        json_object *e;
        if (proj_value(n, json_object_array_get_idx(src, i), &e) != 0)
            goto fail;
        if (!e)
            continue;
        if (!res)
            res = json_object_new_array();
        if (!res || json_object_array_add(res, e) != 0) {
            json_object_put(e);
            goto fail;
        }
    }
    *out = res;
    return 0;
fail:
    json_object_put(res);
    return -1;
}

static int proj_value(const pnode *n, json_object *v, json_object **out)
{
    *out = NULL;
    if (!v)
        return 0;
    switch (json_object_get_type(v)) {
    case json_type_object: {
        json_object *o;
        if (proj_object(n, v, &o) != 0)
            return -1;
        if (json_object_object_length(o) == 0) {
            json_object_put(o);
            return 0;
        }
        *out = o;
        return 0;
    }
    case json_type_array:
        return proj_array(n, v, out);
    default:
        return 0; /* the path continues past a scalar */
    }
}

/* Always gives an object (maybe empty); the caller drops empty ones below the
 * top level.  Keys follow src's order. */
static int proj_object(const pnode *n, json_object *src, json_object **out)
{
    json_object *res = json_object_new_object();

    *out = NULL;
    if (!res)
        return -1;
    json_object_object_foreach(src, key, v) {
        const pnode *k = find_kid(n, key);
        json_object *c = NULL;
        if (!k)
            continue;
        if (k->terminal) {
            c = json_object_get(v); /* shared; NULL is JSON null, kept as is */
        } else {
            if (proj_value(k, v, &c) != 0)
                goto fail;
            if (!c)
                continue;
        }
        if (json_object_object_add(res, key, c) != 0) {
            json_object_put(c);
            goto fail;
        }
    }
    *out = res;
    return 0;
fail:
    json_object_put(res);
    return -1;
}

json_object *se_proj_apply(const se_proj *pj, json_object *src)
{
    json_object *res = NULL;

    if (!pj)
        return json_object_get(src);
    if (!src || json_object_get_type(src) != json_type_object)
        return json_object_new_object();
    if (proj_object(&pj->root, src, &res) != 0)
        return NULL;
    return res;
}

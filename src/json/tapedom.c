/* See tapedom.h. */
#include "tapedom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_object *number(const se_tape *tp, uint32_t i, bool *oom)
{
    const se_tok *t = se_tape_tok(tp, i);
    json_object *o;
    if (t->flags & SE_TF_NAN) {
        o = json_object_new_double(NAN);
    } else if (t->flags & SE_TF_INF) {
        o = json_object_new_double(se_tape_raw(tp, i)[0] == '-' ? -INFINITY : INFINITY);
    } else if (t->flags & SE_TF_DBL) {
        char buf[64], *text = t->len < sizeof buf ? buf : malloc(t->len + 1);
        if (!text) {
            *oom = true;
            return NULL;
        }
        memcpy(text, se_tape_raw(tp, i), t->len);
        text[t->len] = '\0';
        o = json_object_new_double_s(strtod(text, NULL), text);
        if (text != buf)
            free(text);
    } else {
        bool big;
        uint64_t u;
        int64_t v = se_tape_int(tp, i, &big, &u);
        o = big ? json_object_new_uint64(u) : json_object_new_int64(v);
    }
    if (!o)
        *oom = true;
    return o;
}

json_object *se_tape_to_json(const se_tape *tp, uint32_t i, bool *oom)
{
    const se_tok *t = se_tape_tok(tp, i);
    json_object *o = NULL;
    switch (t->kind) {
    case SE_TK_OBJ: {
        char sbuf[256], *kbuf = sbuf;
        size_t kcap = sizeof sbuf;
        if (!(o = json_object_new_object()))
            break;
        SE_TAPE_EACH_MEMBER(tp, i, k) {
            const se_tok *kt = se_tape_tok(tp, k);
            if (kt->len + 1 > kcap) {
                char *nb = malloc(kt->len + 1);
                if (!nb)
                    goto obj_oom;
                if (kbuf != sbuf)
                    free(kbuf);
                kbuf = nb;
                kcap = kt->len + 1;
            }
            kbuf[se_tape_unescape(tp, k, kbuf)] = '\0';
            bool voom = false;
            json_object *v = se_tape_to_json(tp, k + 1, &voom);
            if (voom || json_object_object_add(o, kbuf, v) != 0) {
                json_object_put(v);
                goto obj_oom;
            }
        }
        if (kbuf != sbuf)
            free(kbuf);
        return o;
    obj_oom:
        if (kbuf != sbuf)
            free(kbuf);
        json_object_put(o);
        *oom = true;
        return NULL;
    }
    case SE_TK_ARR:
        if (!(o = json_object_new_array_ext((int)t->len)))
            break;
        SE_TAPE_EACH_ELEM(tp, i, e) {
            bool voom = false;
            json_object *v = se_tape_to_json(tp, e, &voom);
            if (voom || json_object_array_add(o, v) != 0) {
                json_object_put(v);
                json_object_put(o);
                *oom = true;
                return NULL;
            }
        }
        return o;
    case SE_TK_STR: {
        char sbuf[256], *b = t->len <= sizeof sbuf ? sbuf : malloc(t->len + 1);
        if (!b)
            break;
        o = json_object_new_string_len(b, (int)se_tape_unescape(tp, i, b));
        if (b != sbuf)
            free(b);
        break;
    }
    case SE_TK_NUM:
        return number(tp, i, oom);
    case SE_TK_TRUE:
        o = json_object_new_boolean(1);
        break;
    case SE_TK_FALSE:
        o = json_object_new_boolean(0);
        break;
    default:
        return NULL; /* null */
    }
    if (!o)
        *oom = true;
    return o;
}

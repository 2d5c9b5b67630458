/* The reference the tape parser is held to: json-c 0.16 itself, set up as the
 * record reader has always used it (strict, UTF-8 validated, depth 512, a bare
 * value completed by a blank, only whitespace after the value), then
 * se_json_hazard.  Shared by tests/fuzz/fuzz_tape.c and tests/unit/test_tape.c. */
#ifndef SEGEXPORT_TAPE_ORACLE_H
#define SEGEXPORT_TAPE_ORACLE_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "jsonscan.h"
#include "tape.h"
#include "tapedom.h"

/* 1 and *out (NULL for null) when json-c accepts text and no hazard is in it;
 * 0 otherwise, *hazard set when json-c accepted but a hazard was found. */
__attribute__((unused)) static int oracle_parse(const char *text, size_t len, json_object **out,
                                                 const char **hazard)
{
    json_tokener *tok = json_tokener_new_ex(SE_TAPE_MAX_DEPTH);
    json_object *o;
    enum json_tokener_error e;
    int ok = 0;
    *out = NULL;
    *hazard = NULL;
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, text, (int)len);
    e = json_tokener_get_error(tok);
    if (e == json_tokener_success) {
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
            if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
                e = json_tokener_error_parse_unexpected;
    } else if (e == json_tokener_continue) {
        o = json_tokener_parse_ex(tok, " ", 1);
        e = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    if (e == json_tokener_success) {
        size_t off;
        if (se_json_hazard(text, len, hazard, &off) == 0) {
            *out = o;
            return 1;
        }
    }
    json_object_put(o);
    (void)ok;
    return 0;
}

/* Checks the tape's own invariants: every container's end and count. */
__attribute__((unused)) static bool tape_consistent(const se_tape *tp, uint32_t i)
{
    const se_tok *t = se_tape_tok(tp, i);
    if (t->end <= i || t->end > tp->n)
        return false;
    if (t->kind == SE_TK_OBJ || t->kind == SE_TK_ARR) {
        uint32_t n = 0, j = i + 1;
        while (j < t->end) {
            if (t->kind == SE_TK_OBJ) {
                const se_tok *k = se_tape_tok(tp, j);
                if (k->kind != SE_TK_STR || !(k->flags & SE_TF_KEY) || k->end != j + 1)
                    return false;
                j++;
            }
            if (!tape_consistent(tp, j))
                return false;
            j = se_tape_tok(tp, j)->end;
            n++;
        }
        return j == t->end && n == t->len;
    }
    return t->end == i + 1;
}

/* NULL when the tape and json-c agree on text; else what differs. */
__attribute__((unused)) static const char *tape_vs_jsonc(se_tape *tp, const char *text, size_t len)
{
    json_object *want = NULL;
    const char *hazard;
    int ok = oracle_parse(text, len, &want, &hazard);
    int r = se_tape_parse(tp, text, len);
    const char *diff = NULL;
    if (r == SE_TAPE_NOMEM)
        abort();
    if (ok && r != SE_TAPE_OK) {
        diff = "json-c accepts, the tape refuses";
    } else if (!ok && r == SE_TAPE_OK) {
        diff = "json-c refuses, the tape accepts";
    } else if (!ok && hazard && strcmp(hazard, tp->why) != 0) {
        diff = "a different hazard";
    } else if (ok) {
        bool oom = false;
        json_object *got = se_tape_to_json(tp, 0, &oom);
        const int fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
        if (oom)
            abort();
        if (!tape_consistent(tp, 0) || tp->t[0].end != tp->n)
            diff = "an inconsistent tape";
        else if (strcmp(json_object_to_json_string_ext(got, fl), json_object_to_json_string_ext(want, fl)) != 0)
            diff = "different values";
        json_object_put(got);
    }
    json_object_put(want);
    return diff;
}
/* NULL when every path of se_tape_parse (tape.h's se_tape_path; those this
 * machine has) gives text the same verdict, reason, offset and tape,
 * token for token, as the byte parser (REF); else what differs.  Parses a
 * copy of exactly len bytes (nothing after it to read, for ASan).  Leaves
 * the path at AUTO. */
__attribute__((unused)) static const char *tape_paths_agree(const char *text, size_t len)
{
    static const se_tape_path paths[] = { SE_TAPE_PATH_AUTO, SE_TAPE_PATH_AVX2, SE_TAPE_PATH_SSE2,
                                          SE_TAPE_PATH_SCALAR };
    static char what[160];
    const char *diff = NULL;
    char *copy = malloc(len ? len : 1);
    se_tape ref, got;
    if (!copy)
        abort();
    memcpy(copy, text, len);
    se_tape_init(&ref);
    se_tape_init(&got);
    se_tape_set_path(SE_TAPE_PATH_REF);
    int r0 = se_tape_parse(&ref, copy, len);
    for (size_t p = 0; !diff && p < sizeof paths / sizeof *paths; p++) {
        if (se_tape_set_path(paths[p]) != 0)
            continue;
        int r = se_tape_parse(&got, copy, len);
        if (r != r0 || got.n != ref.n || got.notjson != ref.notjson) {
            snprintf(what, sizeof what, "path %d: rc %d n %u notjson %u, want rc %d n %u notjson %u",
                     (int)paths[p], r, got.n, got.notjson, r0, ref.n, ref.notjson);
            diff = what;
        } else if (r != SE_TAPE_OK &&
                   ((!got.why != !ref.why) || (got.why && strcmp(got.why, ref.why) != 0) ||
                    got.err_off != ref.err_off)) {
            snprintf(what, sizeof what, "path %d: \"%s\" at %zu, want \"%s\" at %zu", (int)paths[p],
                     got.why ? got.why : "(null)", got.err_off, ref.why ? ref.why : "(null)",
                     ref.err_off);
            diff = what;
        } else {
            for (uint32_t i = 0; !diff && i < ref.n; i++) {
                const se_tok *a = &got.t[i], *b = &ref.t[i];
                if (a->off != b->off || a->len != b->len || a->end != b->end || a->kind != b->kind ||
                    a->flags != b->flags) {
                    snprintf(what, sizeof what, "path %d: token %u differs", (int)paths[p], i);
                    diff = what;
                }
            }
        }
    }
    se_tape_set_path(SE_TAPE_PATH_AUTO);
    se_tape_free(&ref);
    se_tape_free(&got);
    free(copy);
    return diff;
}
#endif

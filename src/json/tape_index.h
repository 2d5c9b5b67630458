#ifndef SEGEXPORT_TAPE_INDEX_H
#define SEGEXPORT_TAPE_INDEX_H
/* Private to src/json: the tape parser's first stage (tape_index.c), in the
 * manner of simdjson's.  It reads the text 64 bytes at a time, classifies
 * the bytes with vector compares (AVX2, SSE2, or a byte loop) into 64-bit
 * masks, and keeps for each block the bytes where a string's scan must stop:
 *
 *   - the quote that closes a string (a quote after an odd run of
 *     backslashes is escaped; the strings' extent is the prefix xor of the
 *     quotes that are not);
 *   - every backslash inside a string (tape.c then checks that string's
 *     escapes with its own string code).
 *
 * The second stage (tape.c) is the byte parser's grammar; it asks for the
 * first stop at or after a string's first byte (se_tix_stop) instead of
 * looking at the string's bytes.  The text's end is a stop too.
 *
 * The first stage reads the whole text first, into a mask on the parser's
 * stack: texts of SE_TIX_MAX bytes or more are parsed byte by byte.  It
 * refuses a text holding a NUL byte or bytes >= 0x80 that do not fit
 * UTF-8's structure as json-c checks it (a lead byte 110xxxxx, 1110xxxx or
 * 11110xxx followed by 1, 2 or 3 bytes 10xxxxxx; nothing else; a text may
 * not end inside a sequence), and one ending inside a string.  The parser
 * refuses every such text anyway; tape.c
 * then parses it byte by byte, which names the reason and the place. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SE_TIX_WORDS = 1024, SE_TIX_MAX = 64 * SE_TIX_WORDS - 1 };

/* Writes the stops of s[0..len) (len <= SE_TIX_MAX) to stop[0..len / 64],
 * bit k of stop[i] for byte 64 i + k, and one at len; false when refused. */
typedef bool (*se_tix_fn)(const unsigned char *s, size_t len, uint64_t *stop);

/* The first stop at or after off (off <= len): mostly in off's own word
 * (inline, whole: a call costs more than the lookup). */
static inline __attribute__((always_inline)) size_t se_tix_stop(const uint64_t *stop, size_t off)
{
    const uint64_t bits = stop[off >> 6] >> (off & 63);
    if (__builtin_expect(bits != 0, 1))
        return off + (unsigned)__builtin_ctzll(bits);
    size_t w = (off >> 6) + 1;
    while (!stop[w])
        w++;
    return 64 * w + (unsigned)__builtin_ctzll(stop[w]);
}

/* The first stage for a path (tape.h's se_tape_path, not AUTO or REF), or
 * NULL when this machine or build has no such path. */
se_tix_fn se_tix_for(int path);

#endif

/* test_shardkey.c over the plain-C build of the quick key (what a CPU
 * without SSE2 runs): the same records must get the same answers. */
#define SE_NO_SIMD 1
#include "../../src/engine/shardkey.c"
#include "test_shardkey.c"

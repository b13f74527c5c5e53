/* mutate.h -- the fuzz tests' input damage (test_fuzz.c, test_server.c): a few
 * random edits of a valid input, drawn from an sg_rng so a failure reruns.
 * Static functions: include it in one test file each. */
#ifndef SG_TEST_MUTATE_H
#define SG_TEST_MUTATE_H

#include <stdint.h>
#include <string.h>

#include "stratagem/rng.h"

static const unsigned char TEXT_BYTES[] = {',', '"', '\n', '\r', '\0', ' ', '-', '.', 'e', '9',
                                           '0', 'x', 0xC3, 0xA9, 0xFF, 0x80, '\t', ';'};
static const uint64_t EDGE_INTS[] = {0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF,
                                     0x80000000u, 0xFFFFFFFFu, (uint64_t)1 << 31,
                                     (uint64_t)1 << 40, 0x7FFFFFFFFFFFFFFFull,
                                     0xFFFFFFFFFFFFFFFFull, 0x7FF8000000000000ull /* NaN */,
                                     0x7FF0000000000000ull /* inf */, 0x7FEFFFFFFFFFFFFFull};

/* A position: anywhere, or (binary inputs, half the time) in the first 512
 * bytes, where the sizes and names of a payload are. */
static size_t mutate_pick(sg_rng *r, size_t n, int text)
{
    if (n == 0) return 0;
    if (!text && n > 512 && sg_rng_below(r, 2)) return (size_t)sg_rng_below(r, 512);
    return (size_t)sg_rng_below(r, n);
}

/* Copy src (n bytes) into dst (room for n + 256: each of the at most 4 edits
 * adds at most 64 bytes) with 1-4 edits; returns the new length. */
static size_t mutate(sg_rng *r, const unsigned char *src, size_t n, unsigned char *dst, int text)
{
    memcpy(dst, src, n);
    int k = 1 + (int)sg_rng_below(r, 4);
    for (int m = 0; m < k; m++) {
        int op = (int)sg_rng_below(r, 7);
        size_t at = mutate_pick(r, n, text);
        switch (op) {
        case 0:   /* flip a bit */
            if (n) dst[at] ^= (unsigned char)(1u << sg_rng_below(r, 8));
            break;
        case 1:   /* a separator, quote, NUL, stray UTF-8 byte ... */
            if (n) dst[at] = TEXT_BYTES[sg_rng_below(r, sizeof TEXT_BYTES)];
            break;
        case 2: { /* insert 1-8 such bytes */
            size_t c = 1 + (size_t)sg_rng_below(r, 8);
            memmove(dst + at + c, dst + at, n - at);
            for (size_t i = 0; i < c; i++)
                dst[at + i] = TEXT_BYTES[sg_rng_below(r, sizeof TEXT_BYTES)];
            n += c;
            break;
        }
        case 3: { /* delete a range */
            size_t c = 1 + (size_t)sg_rng_below(r, 16);
            if (at + c > n) c = n - at;
            memmove(dst + at, dst + at + c, n - at - c);
            n -= c;
            break;
        }
        case 4: { /* repeat a range */
            size_t c = 1 + (size_t)sg_rng_below(r, 32);
            if (at + c > n) c = n - at;
            if (c > 64) c = 64;
            memmove(dst + at + c, dst + at, n - at);
            n += c;
            break;
        }
        case 5: { /* an extreme 4- or 8-byte integer (a count, a size, a NaN) */
            uint64_t v = EDGE_INTS[sg_rng_below(r, sizeof EDGE_INTS / sizeof *EDGE_INTS)];
            size_t w = sg_rng_below(r, 2) ? 8 : 4;
            if (at + w <= n) memcpy(dst + at, &v, w);
            break;
        }
        default:  /* cut off */
            n = at;
            break;
        }
    }
    return n;
}

#endif

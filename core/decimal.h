/* meterbench core: exact decimal text <-> scaled integers.
 *
 * Volumes are accumulated in integer microlitres and verdicts are decided in integer ppm
 * (docs/metrology.md). Text such as "10.30" (litres) or "0.3" (percent) is converted to those
 * integers digit by digit, never through a double, so "10.30 L" is exactly 10 300 000 uL. */
#ifndef MTB_CORE_DECIMAL_H
#define MTB_CORE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses an optionally signed decimal ("12", "-0.5", "10.300", "+3.") into value * 10^scale.
 * Digits beyond `scale` decimals are rounded half away from zero. No exponent, no spaces.
 * MTB_ERR_ARG when text is not such a number, MTB_ERR_RANGE when the result overflows int64. */
int mtb_decimal_parse(const char *text, unsigned scale, int64_t *out);

/* Writes value / 10^scale with exactly `scale` decimals, then trims trailing zeros down to
 * `min_decimals` (e.g. 3000000 at scale 6, min 1 -> "3.0"). Returns snprintf's count. */
int mtb_decimal_format(char *buf, size_t len, int64_t value, unsigned scale, unsigned min_decimals);

/* Round-half-away-from-zero division of integers (b > 0), with a 128-bit intermediate
 * so that products of volumes in uL and factors of 10^6 cannot overflow. */
int64_t mtb_div_round(__int128 a, int64_t b);

/* The median of v[0..n) (n > 0), sorting v in place: the middle value, or for an even count the
 * mean of the middle two rounded half away from zero (mtb_div_round). */
int64_t mtb_median_i64(int64_t *v, int n);

#ifdef __cplusplus
}
#endif
#endif

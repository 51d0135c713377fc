/* meterbench core: the few JSON writing helpers every output needs (escaping, numbers). */
#ifndef MTB_CORE_JSON_H
#define MTB_CORE_JSON_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes s as a JSON string literal with quotes, escaping control characters; invalid UTF-8
 * bytes are replaced by U+FFFD so the output stays valid JSON. */
void mtb_json_string(FILE *f, const char *s);

/* Writes a double in the shortest form that reads back the same (up to 15 significant
 * digits), always with a decimal point ("25.0", "15.625"); non-finite values as null. */
void mtb_json_double(FILE *f, double v);

/* Writes value / 10^scale exactly, trailing zeros trimmed to one decimal ("3.0", "-0.125"). */
void mtb_json_fixed(FILE *f, int64_t value, unsigned scale);

#ifdef __cplusplus
}
#endif
#endif

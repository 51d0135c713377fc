/* meterbench bench: the small JSON writer behind the live view's events (live_events.c for
 * meter runs, live_can.c for can runs): one object per event on one line, written into a
 * memory stream. Private to bench/. */
#ifndef MTB_BENCH_LIVE_JSON_H
#define MTB_BENCH_LIVE_JSON_H
#include <stdint.h>
#include <stdio.h>

/* Opens an event {"type":"TYPE" into *buf; NULL when out of memory. */
FILE *mtb_lj_begin(char **buf, size_t *len, const char *type);
/* Closes the object and returns the text (the caller frees it), or NULL on failure. The buffer
 * is known only once the stream is closed: hence its address. */
char *mtb_lj_end(FILE *f, char **buf);
void mtb_lj_str(FILE *f, const char *key, const char *v);   /* NULL as "" */
void mtb_lj_dbl(FILE *f, const char *key, double v);
/* an integer with `scale` decimals, exact: 19998085 uL as L (scale 6) -> 19.998085 */
void mtb_lj_fix(FILE *f, const char *key, int64_t v, unsigned scale);
#endif

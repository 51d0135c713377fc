/* meterbench bench: reading the dials of the line -- one camera per meter position (HAL), the
 * register reader (vision) -- as the dial reader of the bench port. Knows both libraries, so it
 * lives in bench. Each observation keeps its frame as JPEG evidence. */
#ifndef MTB_BENCH_DIAL_READER_H
#define MTB_BENCH_DIAL_READER_H

#include "bench/bench_io.h"
#include "bench/bench_io_hal.h"
#include "core/err.h"
#include "core/log.h"
#include "hal/bench_cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_dial_reader;

/* Opens the cameras of cfg for the plan's positions and loads the register layout (by name) and
 * the vision models. io translates frame times in lockstep. */
int mtb_dial_reader_create(struct mtb_dial_reader **out, const struct mtb_bench_cfg *cfg, const int *positions, int n,
			   const char *layout_name, struct mtb_bench_io_hal *io, const struct mtb_log *log,
			   struct mtb_errbuf *eb);
void mtb_dial_reader_destroy(struct mtb_dial_reader *r);

/* The mtb_dial_reader_fn of bench_io_hal.h (user = the reader). */
int mtb_dial_reader_read(void *user, int position, struct mtb_dial_obs *out);

/* One frame of the camera at `position`, not read: JPEG (malloc'd) for the live view between
 * readings. */
int mtb_dial_reader_capture(struct mtb_dial_reader *r, int position, unsigned char **jpeg, size_t *len,
			    struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

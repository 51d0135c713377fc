/* meterbench bench: the metrology of the procedure that is not device I/O — flying-start
 * interpolation of the reference totaliser, and the choice of the test volume. Pure functions. */
#ifndef MTB_BENCH_PROCEDURE_H
#define MTB_BENCH_PROCEDURE_H

#include "core/err.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One reference sample on the bench clock. */
struct mtb_ref_sample {
	int64_t t_us;
	int64_t totaliser_ul;
};

/* The reference totaliser at instant t_us (a camera frame's timestamp), interpolated linearly
 * between the samples that bracket it (samples sorted by time). Refuses (MTB_ERR_RANGE) an
 * instant outside the samples or in a gap longer than max_gap_us: extrapolating a totaliser is
 * guessing. *gap_us receives the bracketing interval, for the timing uncertainty. */
int mtb_flying_interpolate(const struct mtb_ref_sample *s, int n, int64_t t_us, int64_t max_gap_us,
			   int64_t *totaliser_ul, int64_t *gap_us);

/* The test volume for a point: the smallest volume whose reading uncertainty (two readings,
 * each rectangular within +-resolution/2, expanded with k = 2) stays within mpe/10, i.e.
 *   2 x resolution / sqrt(6) / V <= MPE / 10   ->   V >= 20 resolution / (sqrt(6) MPE),
 * clamped to the plan's [min_l, max_l]. *limited is set when max_l is below what the reading
 * resolution asks for (the point's U will then show it). Litres. */
double mtb_test_volume_l(double resolution_l, int32_t mpe_ppm, double min_l, double max_l, int *limited);

#ifdef __cplusplus
}
#endif
#endif

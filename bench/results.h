/* meterbench bench: the results engine. One test point in, zone, MPE, error and verdict out.
 *
 * Decided in integers: volumes in microlitres, error and MPE in ppm. A point passes when
 * |Vi - Va| * 10^6 <= MPE_ppm * Va, so an error exactly at the MPE passes and no rounding of
 * the displayed percentage can change a verdict. Rounding of displayed values: docs/metrology.md. */
#ifndef MTB_BENCH_RESULTS_H
#define MTB_BENCH_RESULTS_H

#include "calibration/mpe.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_verdict {
	MTB_VERDICT_PASS = 0,
	MTB_VERDICT_FAIL,
	MTB_VERDICT_INVALID,       /* expanded uncertainty U above MPE/3 */
	MTB_VERDICT_OUT_OF_RANGE,  /* flow outside Q1...Q4 */
};

const char *mtb_verdict_name(enum mtb_verdict v);   /* "pass", "fail", "invalid", "out-of-range" */

/* Largest volume the engine accepts, 10^9 L: far above any test, small enough that every
 * product below fits 128 bits with room to spare. */
#define MTB_VOLUME_MAX_UL (INT64_C(1000000000) * 1000000)

struct mtb_point_in {
	const struct mtb_rule_set *rules;
	int accuracy_class;                 /* 1 or 2 */
	struct mtb_flow_range flow_range;
	enum mtb_mode mode;
	const struct mtb_in_service *in_service;  /* NULL: default (factor 2) */
	double flow_lph;
	int64_t actual_ul;                  /* Va, > 0 */
	int64_t indicated_ul;               /* Vi, >= 0 */
	int32_t water_temp_mdegc;
	int32_t u_exp_ppm;                  /* expanded uncertainty (k = 2); < 0 when not known */
};

struct mtb_point_out {
	enum mtb_zone zone;
	int32_t mpe_ppm;                    /* 0 when out of range */
	int64_t error_ppm;                  /* (Vi - Va)/Va in ppm, rounded half away from zero */
	enum mtb_verdict verdict;
};

/* Judges one point. MTB_ERR_ARG for inputs no measurement can produce (Va <= 0, Vi < 0,
 * volumes above MTB_VOLUME_MAX_UL, a bad class or no rule set). */
int mtb_point_judge(const struct mtb_point_in *in, struct mtb_point_out *out);

#ifdef __cplusplus
}
#endif
#endif

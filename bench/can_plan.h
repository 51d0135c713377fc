/* meterbench bench: a can plan (a configs/plans/ file with `kind: can`), what `meterbench run`
 * does on a measuring can or cylinder: the vessel type, its serial, the number of runs, the
 * procedure's timing and the lab's instrument uncertainties (docs/cans.md). The devices it uses
 * are found by name in the bench file (can_fill, can_drain, balance, t_can_water, t_air, p_air,
 * rh_air, and the camera `neck`). Pure parser with a fuzz target (tests/fuzz/fuzz_can_plan.c). */
#ifndef MTB_BENCH_CAN_PLAN_H
#define MTB_BENCH_CAN_PLAN_H

#include "bench/can_procedure.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_can_plan_file {
	char name[64];
	char vessel_name[64];
	char serial[64];
	char operator_name[64];
	char customer[128];
	struct mtb_can_plan plan;   /* runs, timing and uncertainty inputs (bench/can_procedure.h) */
};

/* Whether a plan text is a can plan: a top-level `kind: can`. */
bool mtb_can_plan_detect(const char *data, size_t len);

/* Parses a can plan; errors "ORIGIN: line L: field 'F': why". The vessel is not resolved. */
int mtb_can_plan_parse(const char *data, size_t len, const char *origin, struct mtb_can_plan_file *out,
		       struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

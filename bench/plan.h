/* meterbench bench: verification plans (configs/plans/NAME.yaml). A plan says what is tested
 * (meter type, meters by position and serial), at which points, under which rules, and how. */
#ifndef MTB_BENCH_PLAN_H
#define MTB_BENCH_PLAN_H

#include "calibration/meter_type.h"
#include "calibration/mpe.h"
#include "core/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MTB_PLAN_MAX_METERS 32
#define MTB_PLAN_MAX_POINTS 16

enum mtb_plan_mode { MTB_PLAN_VERIFICATION = 0, MTB_PLAN_IN_SERVICE, MTB_PLAN_DISPUTE };
enum mtb_start { MTB_START_FLYING = 0, MTB_START_STANDING };
enum mtb_flow_base { MTB_BASE_Q1 = 0, MTB_BASE_Q2, MTB_BASE_Q3, MTB_BASE_Q4 };

struct mtb_plan_meter {
	int position;          /* 1-based place in the line, the camera's position */
	char serial[64];
};

struct mtb_plan_point {
	char name[16];         /* "Q1" */
	enum mtb_flow_base base;
	double from, to;       /* flow range as factors of the base: Q1 ... 1.1 Q1 */
	double flow_lph;       /* the set point: middle of the range, from the meter type */
	double min_lph, max_lph;
	double min_volume_l;   /* bounds on the test volume chosen from the reading resolution */
	double max_volume_l;
};

struct mtb_plan {
	char name[64];
	struct mtb_meter_type type;
	const struct mtb_rule_set *rules;
	enum mtb_plan_mode mode;
	char jurisdiction[64];          /* in-service limits for in-service and dispute modes */
	enum mtb_start start;
	char operator_name[64];
	int n_meters;
	struct mtb_plan_meter meters[MTB_PLAN_MAX_METERS];
	int n_points;
	struct mtb_plan_point points[MTB_PLAN_MAX_POINTS];
	/* Dispute appraisals (糾紛鑑定) only. */
	char customer[128];
	char utility[128];
	char case_number[64];
};

const char *mtb_plan_mode_name(enum mtb_plan_mode m);   /* "verification", "in-service", "dispute" */
const char *mtb_start_name(enum mtb_start s);           /* "flying", "standing" */

/* The MPE mode a plan's mode judges with: dispute appraisals use the in-service limits. */
enum mtb_mode mtb_plan_mpe_mode(const struct mtb_plan *p);

/* Parses and validates a plan; the meter type is loaded by name. Errors: "FILE: line L: field
 * 'F': why". Defaults: points Q1 (Q1...1.1 Q1), Q2 (Q2...1.1 Q2), Q3 (0.9 Q3...Q3); flying start;
 * jurisdiction "default". */
int mtb_plan_parse(const char *data, size_t len, const char *origin, struct mtb_plan *out,
		   struct mtb_errbuf *eb);
int mtb_plan_load(const char *path_or_name, struct mtb_plan *out, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

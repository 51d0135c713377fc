/* meterbench calibration: flow-rate zones and maximum permissible errors (MPE) of water meters
 * under OIML R 49 / ISO 4064, and the in-service limits that national law sets for disputes.
 * MPEs are integers in ppm (10 000 ppm = 1 %). Sources: docs/metrology.md. */
#ifndef MTB_CALIBRATION_MPE_H
#define MTB_CALIBRATION_MPE_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_zone { MTB_ZONE_OUT_OF_RANGE = 0, MTB_ZONE_LOWER, MTB_ZONE_UPPER };
enum mtb_mode { MTB_MODE_VERIFICATION = 0, MTB_MODE_IN_SERVICE };

const char *mtb_zone_name(enum mtb_zone z);        /* "lower", "upper", "out-of-range" */
const char *mtb_mode_name(enum mtb_mode m);        /* "verification", "in-service" */
int mtb_mode_parse(const char *name, enum mtb_mode *out);

/* One edition's rules. Class index 0 is accuracy class 1, index 1 class 2. */
struct mtb_rule_set {
	const char *name;               /* "r49-2013", selectable on the command line */
	const char *title;              /* "OIML R49:2013", printed in results */
	int32_t lower_ppm[2];           /* Q1 <= Q < Q2, any water temperature */
	int32_t upper_ppm[2];           /* Q2 <= Q <= Q4, water up to hot_above_mdegc */
	int32_t upper_hot_ppm[2];       /* Q2 <= Q <= Q4, water above hot_above_mdegc */
	int32_t hot_above_mdegc;        /* 30 000: the "0.1-30 C" band of the tables */
	bool same_sign_rule;            /* all errors one sign -> one of them <= MPE/2 (2013 only) */
};

/* The rule set of that name, or NULL. */
const struct mtb_rule_set *mtb_rule_set_find(const char *name);
/* Names of all rule sets, NULL-terminated, for help texts. */
extern const char *const mtb_rule_set_names[];

/* Flow rates of one meter type, L/h. */
struct mtb_flow_range {
	double q1_lph, q2_lph, q3_lph, q4_lph;
};

/* Q1 = Q3/R, Q2 = Q1 * q2_q1, Q4 = Q3 * q4_q3. MTB_ERR_RANGE for non-positive inputs or
 * ratios that would put the zones out of order. */
int mtb_flow_range_make(double q3_m3h, double ratio, double q2_q1, double q4_q3,
			struct mtb_flow_range *out);

/* Zone of a flow rate. Boundaries are compared with a relative tolerance of 1e-9, far below any
 * flow measurement, so that a flow typed as exactly "25" meets a Q2 computed as 25.000000000004
 * on the side the standard puts it (Q2 belongs to the upper zone, Q1 and Q4 are inside). */
enum mtb_zone mtb_zone_of(const struct mtb_flow_range *r, double flow_lph);

/* In-service limits of one jurisdiction (configs/jurisdictions/). A zone's in-service MPE is
 * mpe_pct when set (> 0), otherwise factor x the verification MPE. */
struct mtb_in_service {
	char name[64];
	int32_t lower_factor_ppm;       /* 2 000 000 = factor 2 */
	int32_t upper_factor_ppm;
	int32_t lower_mpe_ppm;          /* 0: use the factor */
	int32_t upper_mpe_ppm;
};

/* The built-in default: factor 2 in both zones (common practice, e.g. Germany's
 * Verkehrsfehlergrenze and Japan's 使用公差; not yet confirmed for Taiwan's 檢查公差). */
void mtb_in_service_default(struct mtb_in_service *out);

/* Loads configs/jurisdictions/NAME.yaml (or a path). */
int mtb_in_service_load(const char *path, struct mtb_in_service *out, struct mtb_errbuf *eb);

/* MPE in ppm for a point. accuracy_class 1 or 2; in_service may be NULL for the default.
 * MTB_ERR_ARG for a bad class or an out-of-range zone. */
int mtb_mpe_ppm(const struct mtb_rule_set *rules, int accuracy_class, enum mtb_zone zone,
		int32_t water_temp_mdegc, enum mtb_mode mode, const struct mtb_in_service *in_service,
		int32_t *mpe_ppm);

/* R49:2013 7.2.3: when all errors have the same sign, at least one must not exceed half its
 * MPE. Returns true when the set satisfies the rule (or the rule set has no such rule). */
bool mtb_same_sign_rule_ok(const struct mtb_rule_set *rules, const int64_t *error_ppm,
			   const int32_t *mpe_ppm, int n);

#ifdef __cplusplus
}
#endif
#endif

/* meterbench calibration: reference standards and their calibration certificates
 * (configs/references/NAME.yaml). A run uses the certificate's error curve to correct the
 * reference volume and its uncertainty in the budget; an expired certificate stops the run. */
#ifndef MTB_CALIBRATION_REFERENCE_H
#define MTB_CALIBRATION_REFERENCE_H

#include "core/err.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTB_REF_MAX_POINTS 64

struct mtb_ref_point {
	double flow_lph;
	double error;          /* fraction: +0.0012 = the reference reads 0.12 % high */
	double u_exp;          /* expanded uncertainty (k = 2) of that error, fraction */
};

struct mtb_reference {
	char name[64];
	char kind[32];         /* electromagnetic, coriolis, turbine, ... */
	char manufacturer[64];
	char model[64];
	char serial[64];
	char cert_number[64];
	char cert_issued_by[128];
	int32_t cert_issued_day;       /* days since 1970-01-01 */
	int32_t cert_valid_until_day;  /* last day of validity, inclusive */
	int n_points;
	struct mtb_ref_point points[MTB_REF_MAX_POINTS];   /* ascending flow */
};

/* Loads and validates a reference from YAML text; `origin` names it in errors. */
int mtb_reference_parse(const char *data, size_t len, const char *origin, struct mtb_reference *out,
			struct mtb_errbuf *eb);

/* By name (configs/references/NAME.yaml, see core/config.h) or path. */
int mtb_reference_load(const char *path_or_name, struct mtb_reference *out, struct mtb_errbuf *eb);

/* Certificate error and its U at a flow rate: linear in flow between calibration points, flat
 * outside them (the same rule as the simulator's true-error curves). */
void mtb_reference_error_at(const struct mtb_reference *ref, double flow_lph, double *error,
			    double *u_exp);

/* MTB_OK when the certificate is valid on `day` (issued <= day <= valid_until); otherwise
 * MTB_ERR_STATE with "certificate CAL-... of REF expired on 2027-05-01" in eb. */
int mtb_reference_check_valid(const struct mtb_reference *ref, int32_t day, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

/* meterbench calibration: water-meter types (configs/types/NAME.yaml), the metrological identity
 * of a meter model: size, flow rates, classes, scale interval, register layout. */
#ifndef MTB_CALIBRATION_METER_TYPE_H
#define MTB_CALIBRATION_METER_TYPE_H

#include "calibration/mpe.h"
#include "core/err.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_meter_type {
	char name[64];               /* "dn15-r160-c2" */
	int dn;                      /* nominal size, mm */
	double q3_m3h;               /* permanent flow rate */
	double ratio;                /* R = Q3/Q1 */
	double q2_q1;                /* default 1.6 */
	double q4_q3;                /* default 1.25 */
	int accuracy_class;          /* 1 or 2 */
	char temperature_class[16];  /* "T30", "T50", "T30/90" ... */
	int32_t max_temp_mdegc;      /* MAT from the temperature class: T30 -> 30 000 */
	int64_t scale_interval_ul;   /* verification scale interval: 1, 2 or 5 x 10^n m3 ... in uL */
	char register_layout[64];    /* name of a layout in configs/layouts/ */
	struct mtb_flow_range flow;  /* derived */
};

/* Loads and validates a meter type from YAML text; `origin` names it in errors. */
int mtb_meter_type_parse(const char *data, size_t len, const char *origin,
			 struct mtb_meter_type *out, struct mtb_errbuf *eb);

/* Loads a meter type from a file path, or by name from the configuration folders
 * (see mtb_config_find in core/config.h). Errors name the file, line and field. */
int mtb_meter_type_load(const char *path_or_name, struct mtb_meter_type *out, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

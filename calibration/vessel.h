/* meterbench calibration: vessel types (configs/vessels/NAME.yaml) -- measuring cans (量桶),
 * standard capacity measures and graduated measuring cylinders: nominal volume, material and its
 * cubical expansion, reference temperature, the neck scale, delivery or content, and the
 * tolerance rule the vessel is judged by.
 *
 * Every number that the reference notes leave unconfirmed ([U]) lives in the YAML, with its tag
 * and source in a comment there; nothing of the kind is a constant here (docs/cans.md). */
#ifndef MTB_CALIBRATION_VESSEL_H
#define MTB_CALIBRATION_VESSEL_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_vessel_kind { MTB_VESSEL_CAN = 0, MTB_VESSEL_CYLINDER };

/* "To deliver" (Ex): the volume poured out after a stated drain time, the vessel wetted and
 * drained first; "to contain" (In): the volume held when filled to the line. */
enum mtb_vessel_delivery { MTB_VESSEL_TO_DELIVER = 0, MTB_VESSEL_TO_CONTAIN };

enum mtb_tolerance_rule {
	MTB_TOL_MPE = 0,      /* the vessel's own MPE, given in the file (mpe_l) */
	MTB_TOL_ONE_DIVISION, /* |error| within one smallest scale division (BSMI 業者自備標準量桶, [C]) */
	MTB_TOL_CLASS,        /* a class (A, B) looked up in the file's class table */
};

/* The reading surface: the lowest point of a concave (wetting) meniscus, or the top edge for an
 * opaque liquid (standards-factsheet 3.4). */
enum mtb_meniscus_mode { MTB_MENISCUS_BOTTOM = 0, MTB_MENISCUS_TOP };

#define MTB_VESSEL_MAX_CLASSES 4

/* The neck scale: equally spaced lines, numbered from the scale's zero line upwards. The line
 * of division d stands for zero_ul + d * division_ul. */
struct mtb_neck_scale {
	int64_t zero_ul;         /* volume at the lowest line (division 0) */
	int64_t division_ul;     /* volume of one division (the smallest scale interval), > 0 */
	int divisions;           /* lines 0 ... divisions */
	int nominal_div;         /* the line marked with the nominal volume */
	int long_every;          /* every long_every-th line (from 0) is long; 1 = all long */
	int number_every;        /* every number_every-th line carries a number; 0 = none */
	double division_mm;      /* spacing of the lines on the neck (for rendering and checks) */
	double neck_diameter_mm; /* inside diameter of the neck or tube */
};

struct mtb_vessel_class_tol {
	char name[8];            /* "A", "B" */
	int64_t mpe_ul;
};

struct mtb_vessel {
	char name[64];
	enum mtb_vessel_kind kind;
	int64_t nominal_ul;
	char material[48];
	double gamma_per_k;      /* cubical (volume) expansion coefficient of the vessel, 1/K */
	double ref_temp_c;       /* reference temperature of the volume (usually 20 C) */
	enum mtb_vessel_delivery delivery;
	double drain_time_s;     /* to deliver: drain time after the stream breaks into drops */
	enum mtb_meniscus_mode meniscus;
	struct mtb_neck_scale scale;
	enum mtb_tolerance_rule rule;
	int64_t mpe_ul;          /* MTB_TOL_MPE: the MPE; otherwise derived (see mtb_vessel_mpe_ul) */
	char vessel_class[8];    /* MTB_TOL_CLASS: the class this vessel is judged in */
	int n_classes;
	struct mtb_vessel_class_tol classes[MTB_VESSEL_MAX_CLASSES];
	double u_ratio_max;      /* a result whose U exceeds this fraction of the MPE is invalid */
};

/* Parses and validates a vessel type from YAML text; `origin` names it in errors, which read
 * "ORIGIN: line L: field 'F': why". */
int mtb_vessel_parse(const char *data, size_t len, const char *origin, struct mtb_vessel *out,
		     struct mtb_errbuf *eb);

/* Loads a vessel type by path or by name from the configuration folders ("vessels"). */
int mtb_vessel_load(const char *path_or_name, struct mtb_vessel *out, struct mtb_errbuf *eb);

/* The volume a scale reading stands for: zero + level_div x division, rounded to the uL. */
int64_t mtb_vessel_scale_volume_ul(const struct mtb_vessel *v, double level_div);

/* The nominal line's volume (zero + nominal_div x division); equals nominal_ul for a can. */
int64_t mtb_vessel_nominal_line_ul(const struct mtb_vessel *v);

/* The maximum permissible error of the vessel under its rule, in uL. */
int64_t mtb_vessel_mpe_ul(const struct mtb_vessel *v);

/* Verdict of a vessel's error: the error of a material measure is the indicated (scale) volume
 * minus the conventional true volume at the reference temperature. */
enum mtb_vessel_verdict { MTB_VESSEL_PASS = 0, MTB_VESSEL_FAIL, MTB_VESSEL_INVALID };

/* Judges in integers: INVALID when u_exp_ul > u_ratio_max x MPE (the measurement cannot support
 * a decision), else PASS when |error_ul| <= MPE (an error exactly at the MPE passes). */
enum mtb_vessel_verdict mtb_vessel_judge(const struct mtb_vessel *v, int64_t error_ul, int64_t u_exp_ul);
const char *mtb_vessel_verdict_name(enum mtb_vessel_verdict verdict);

const char *mtb_vessel_rule_name(enum mtb_tolerance_rule rule);

#ifdef __cplusplus
}
#endif
#endif

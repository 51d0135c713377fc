#include "calibration/mpe.h"

#include "core/decimal.h"
#include "core/yaml_load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* OIML R 49-1:2013 and R 49-1:2024 (= ISO 4064-1), MPE of class 1 and class 2 meters:
 * lower zone +-3 % / +-5 %; upper zone +-1 % / +-2 % for water 0.1-30 C and +-2 % / +-3 % above
 * 30 C (standards-factsheet 1.2; class 2 confirmed by the MID text, which equals class 2).
 * The 2024 edition deleted the same-sign rule of 2013 7.2.3 (R 49-1:2024 Annex E). */
static const struct mtb_rule_set RULE_SETS[] = {
	{
		.name = "r49-2013",
		.title = "OIML R49:2013",
		.lower_ppm = { 30000, 50000 },
		.upper_ppm = { 10000, 20000 },
		.upper_hot_ppm = { 20000, 30000 },
		.hot_above_mdegc = 30000,
		.same_sign_rule = true,
	},
	{
		.name = "r49-2024",
		.title = "OIML R49:2024",
		.lower_ppm = { 30000, 50000 },
		.upper_ppm = { 10000, 20000 },
		.upper_hot_ppm = { 20000, 30000 },
		.hot_above_mdegc = 30000,
		.same_sign_rule = false,
	},
};

const char *const mtb_rule_set_names[] = { "r49-2013", "r49-2024", NULL };

const struct mtb_rule_set *mtb_rule_set_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof RULE_SETS / sizeof RULE_SETS[0]; i++)
		if (strcmp(RULE_SETS[i].name, name) == 0)
			return &RULE_SETS[i];
	return NULL;
}

const char *mtb_zone_name(enum mtb_zone z)
{
	switch (z) {
	case MTB_ZONE_LOWER: return "lower";
	case MTB_ZONE_UPPER: return "upper";
	case MTB_ZONE_OUT_OF_RANGE: break;
	}
	return "out-of-range";
}

const char *mtb_mode_name(enum mtb_mode m)
{
	return m == MTB_MODE_IN_SERVICE ? "in-service" : "verification";
}

int mtb_mode_parse(const char *name, enum mtb_mode *out)
{
	if (name && strcmp(name, "verification") == 0)
		*out = MTB_MODE_VERIFICATION;
	else if (name && strcmp(name, "in-service") == 0)
		*out = MTB_MODE_IN_SERVICE;
	else
		return MTB_ERR_ARG;
	return MTB_OK;
}

int mtb_flow_range_make(double q3_m3h, double ratio, double q2_q1, double q4_q3,
			struct mtb_flow_range *out)
{
	if (!(q3_m3h > 0) || !(ratio > 0) || !(q2_q1 >= 1) || !(q4_q3 >= 1) ||
	    !isfinite(q3_m3h) || !isfinite(ratio) || !isfinite(q2_q1) || !isfinite(q4_q3))
		return MTB_ERR_RANGE;
	/* Q2 must lie below Q3, otherwise there is no upper zone to speak of. */
	if (q2_q1 >= ratio)
		return MTB_ERR_RANGE;
	out->q3_lph = q3_m3h * 1000.0;
	/* Q2 = Q3 * (Q2/Q1) / R, computed in that order so decimal inputs stay exact where they can. */
	out->q1_lph = out->q3_lph / ratio;
	out->q2_lph = out->q3_lph * q2_q1 / ratio;
	out->q4_lph = out->q3_lph * q4_q3;
	return MTB_OK;
}

static bool at_least(double flow, double bound)
{
	return flow >= bound * (1.0 - 1e-9);
}

static bool at_most(double flow, double bound)
{
	return flow <= bound * (1.0 + 1e-9);
}

enum mtb_zone mtb_zone_of(const struct mtb_flow_range *r, double flow_lph)
{
	if (!isfinite(flow_lph) || !at_least(flow_lph, r->q1_lph) || !at_most(flow_lph, r->q4_lph))
		return MTB_ZONE_OUT_OF_RANGE;
	return at_least(flow_lph, r->q2_lph) ? MTB_ZONE_UPPER : MTB_ZONE_LOWER;
}

void mtb_in_service_default(struct mtb_in_service *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "default");
	out->lower_factor_ppm = 2000000;
	out->upper_factor_ppm = 2000000;
}

int mtb_mpe_ppm(const struct mtb_rule_set *rules, int accuracy_class, enum mtb_zone zone,
		int32_t water_temp_mdegc, enum mtb_mode mode, const struct mtb_in_service *in_service,
		int32_t *mpe_ppm)
{
	if (!rules || (accuracy_class != 1 && accuracy_class != 2) || zone == MTB_ZONE_OUT_OF_RANGE)
		return MTB_ERR_ARG;
	int c = accuracy_class - 1;
	int32_t mpe;
	if (zone == MTB_ZONE_LOWER)
		mpe = rules->lower_ppm[c];
	else
		mpe = water_temp_mdegc > rules->hot_above_mdegc ? rules->upper_hot_ppm[c] : rules->upper_ppm[c];

	if (mode == MTB_MODE_IN_SERVICE) {
		struct mtb_in_service def;
		if (!in_service) {
			mtb_in_service_default(&def);
			in_service = &def;
		}
		int32_t fixed = zone == MTB_ZONE_LOWER ? in_service->lower_mpe_ppm : in_service->upper_mpe_ppm;
		int32_t factor = zone == MTB_ZONE_LOWER ? in_service->lower_factor_ppm : in_service->upper_factor_ppm;
		if (fixed > 0)
			mpe = fixed;
		else
			mpe = (int32_t)mtb_div_round((__int128)mpe * factor, 1000000);
	}
	*mpe_ppm = mpe;
	return MTB_OK;
}

bool mtb_same_sign_rule_ok(const struct mtb_rule_set *rules, const int64_t *error_ppm,
			   const int32_t *mpe_ppm, int n)
{
	if (!rules->same_sign_rule || n < 2)
		return true;
	bool all_pos = true, all_neg = true;
	for (int i = 0; i < n; i++) {
		all_pos = all_pos && error_ppm[i] > 0;
		all_neg = all_neg && error_ppm[i] < 0;
	}
	if (!all_pos && !all_neg)
		return true;
	for (int i = 0; i < n; i++) {
		int64_t e = error_ppm[i] < 0 ? -error_ppm[i] : error_ppm[i];
		if (2 * e <= mpe_ppm[i])
			return true;
	}
	return false;
}

/* ---- configs/jurisdictions/NAME.yaml ----------------------------------------------------- */

struct jurisdiction_yaml {
	char *name;
	char *note;
	char *lower_zone_factor;    /* numbers as strings: see mtb_yaml_number */
	char *upper_zone_factor;
	char *lower_zone_mpe_pct;
	char *upper_zone_mpe_pct;
};

static const cyaml_schema_field_t JURISDICTION_FIELDS[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct jurisdiction_yaml, name, 1, 63),
	CYAML_FIELD_STRING_PTR("note", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct jurisdiction_yaml,
			       note, 0, CYAML_UNLIMITED),
	CYAML_FIELD_STRING_PTR("lower_zone_factor", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct jurisdiction_yaml, lower_zone_factor, 1, 64),
	CYAML_FIELD_STRING_PTR("upper_zone_factor", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct jurisdiction_yaml, upper_zone_factor, 1, 64),
	CYAML_FIELD_STRING_PTR("lower_zone_mpe_pct", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct jurisdiction_yaml, lower_zone_mpe_pct, 1, 64),
	CYAML_FIELD_STRING_PTR("upper_zone_mpe_pct", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct jurisdiction_yaml, upper_zone_mpe_pct, 1, 64),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t JURISDICTION_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct jurisdiction_yaml, JURISDICTION_FIELDS),
};

static int to_ppm(double v, double unit_ppm, int32_t *out)
{
	if (!(v > 0) || !(v < 100) || !isfinite(v))
		return MTB_ERR_RANGE;
	*out = (int32_t)llround(v * unit_ppm);
	return MTB_OK;
}

int mtb_in_service_load(const char *path, struct mtb_in_service *out, struct mtb_errbuf *eb)
{
	struct jurisdiction_yaml *y;
	int rc = mtb_yaml_load_file(path, &JURISDICTION_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return rc;
	mtb_in_service_default(out);
	snprintf(out->name, sizeof out->name, "%s", y->name);
	struct { const char *field; const char *v; double unit; int32_t *dst; } f[] = {
		{ "lower_zone_factor", y->lower_zone_factor, 1e6, &out->lower_factor_ppm },
		{ "upper_zone_factor", y->upper_zone_factor, 1e6, &out->upper_factor_ppm },
		{ "lower_zone_mpe_pct", y->lower_zone_mpe_pct, 1e4, &out->lower_mpe_ppm },
		{ "upper_zone_mpe_pct", y->upper_zone_mpe_pct, 1e4, &out->upper_mpe_ppm },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		double v;
		if (f[i].v && (mtb_yaml_number(f[i].v, &v) != MTB_OK || to_ppm(v, f[i].unit, f[i].dst) != MTB_OK)) {
			rc = mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: field '%s': must be a number > 0 and < 100, got '%s'",
					    path, f[i].field, f[i].v);
			break;
		}
	}
	mtb_yaml_free(&JURISDICTION_SCHEMA, y);
	return rc;
}

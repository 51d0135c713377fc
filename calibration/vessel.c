#include "calibration/vessel.h"

#include "core/config.h"
#include "core/decimal.h"
#include "core/yaml_load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The YAML as libcyaml fills it; numbers are strings converted strictly (core/yaml_load.h),
 * volumes digit by digit into uL (core/decimal.h). Unknown keys are refused by libcyaml. */
struct scale_yaml {
	char *zero_l;
	char *division_l;
	char *divisions;
	char *nominal_div;
	char *long_every;
	char *number_every;
	char *neck_diameter_mm;
};

struct tolerance_yaml {
	char *rule;
	char *mpe_l;
	char *vessel_class;
	char ***class_mpe_ml;       /* rows [class, mpe_ml] */
	unsigned class_mpe_ml_count;
	char *u_ratio_max;
};

struct vessel_yaml {
	char *name;
	char *kind;
	char *description;
	char *nominal_volume_l;
	char *material;
	char *expansion_per_k;
	char *reference_temp_c;
	char *delivery;
	char *drain_time_s;
	char *meniscus;
	struct scale_yaml *neck_scale;
	struct tolerance_yaml *tolerance;
};

#define STR(key, st, member, flags, max) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), st, member, 1, max)

static const cyaml_schema_field_t SCALE_FIELDS[] = {
	STR("zero_l", struct scale_yaml, zero_l, 0, 32),
	STR("division_l", struct scale_yaml, division_l, 0, 32),
	STR("divisions", struct scale_yaml, divisions, 0, 16),
	STR("nominal_div", struct scale_yaml, nominal_div, 0, 16),
	STR("long_every", struct scale_yaml, long_every, CYAML_FLAG_OPTIONAL, 16),
	STR("number_every", struct scale_yaml, number_every, CYAML_FLAG_OPTIONAL, 16),
	STR("neck_diameter_mm", struct scale_yaml, neck_diameter_mm, 0, 32),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t CELL = { CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 32) };
static const cyaml_schema_value_t ROW = { CYAML_VALUE_SEQUENCE_FIXED(CYAML_FLAG_POINTER, char *, &CELL, 2) };

static const cyaml_schema_field_t TOLERANCE_FIELDS[] = {
	STR("rule", struct tolerance_yaml, rule, 0, 32),
	STR("mpe_l", struct tolerance_yaml, mpe_l, CYAML_FLAG_OPTIONAL, 32),
	STR("class", struct tolerance_yaml, vessel_class, CYAML_FLAG_OPTIONAL, 7),
	CYAML_FIELD_SEQUENCE("class_mpe_ml", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct tolerance_yaml,
			     class_mpe_ml, &ROW, 1, MTB_VESSEL_MAX_CLASSES),
	STR("u_ratio_max", struct tolerance_yaml, u_ratio_max, CYAML_FLAG_OPTIONAL, 32),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t VESSEL_FIELDS[] = {
	STR("name", struct vessel_yaml, name, 0, 255),
	STR("kind", struct vessel_yaml, kind, 0, 32),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct vessel_yaml,
			       description, 0, CYAML_UNLIMITED),
	STR("nominal_volume_l", struct vessel_yaml, nominal_volume_l, 0, 32),
	STR("material", struct vessel_yaml, material, 0, 255),
	STR("expansion_per_k", struct vessel_yaml, expansion_per_k, 0, 32),
	STR("reference_temp_c", struct vessel_yaml, reference_temp_c, 0, 32),
	STR("delivery", struct vessel_yaml, delivery, 0, 32),
	STR("drain_time_s", struct vessel_yaml, drain_time_s, CYAML_FLAG_OPTIONAL, 32),
	STR("meniscus", struct vessel_yaml, meniscus, CYAML_FLAG_OPTIONAL, 32),
	CYAML_FIELD_MAPPING_PTR("neck_scale", CYAML_FLAG_POINTER, struct vessel_yaml, neck_scale, SCALE_FIELDS),
	CYAML_FIELD_MAPPING_PTR("tolerance", CYAML_FLAG_POINTER, struct vessel_yaml, tolerance, TOLERANCE_FIELDS),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t VESSEL_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct vessel_yaml, VESSEL_FIELDS),
};

#define FIELD_ERR(field, ...) mtb_yaml_field_err(eb, data, origin, field, __VA_ARGS__)

/* A volume in litres (or mL with scale 3) as exact integer microlitres. */
static int volume(const char *text, unsigned scale, int64_t *ul)
{
	return mtb_decimal_parse(text, scale, ul);
}

static int whole(const char *text, long lo, long hi, int *out)
{
	long v;
	if (mtb_yaml_integer(text, &v) != MTB_OK || v < lo || v > hi)
		return MTB_ERR_ARG;
	*out = (int)v;
	return MTB_OK;
}

static int validate_scale(const struct scale_yaml *s, const char *data, const char *origin,
			  struct mtb_vessel *v, struct mtb_errbuf *eb)
{
	struct mtb_neck_scale *n = &v->scale;
	if (volume(s->zero_l, 6, &n->zero_ul) != MTB_OK || n->zero_ul < 0)
		return FIELD_ERR("zero_l", "must be a volume >= 0 in litres, got '%s'", s->zero_l);
	if (volume(s->division_l, 6, &n->division_ul) != MTB_OK || n->division_ul < 1)
		return FIELD_ERR("division_l", "must be a volume > 0 in litres (at least 0.000001), got '%s'",
				 s->division_l);
	if (whole(s->divisions, 1, 10000, &n->divisions) != MTB_OK)
		return FIELD_ERR("divisions", "must be a whole number within 1-10000, got '%s'", s->divisions);
	if (whole(s->nominal_div, 0, n->divisions, &n->nominal_div) != MTB_OK)
		return FIELD_ERR("nominal_div", "must be a line of the scale, 0-%d, got '%s'", n->divisions,
				 s->nominal_div);
	n->long_every = 5;
	if (s->long_every && whole(s->long_every, 1, 100, &n->long_every) != MTB_OK)
		return FIELD_ERR("long_every", "must be a whole number within 1-100, got '%s'", s->long_every);
	n->number_every = 0;
	if (s->number_every && whole(s->number_every, 0, 1000, &n->number_every) != MTB_OK)
		return FIELD_ERR("number_every", "must be a whole number within 0-1000, got '%s'", s->number_every);
	if (n->number_every && n->number_every % n->long_every != 0)
		return FIELD_ERR("number_every", "numbered lines must be long lines: %d is not a multiple of long_every %d",
				 n->number_every, n->long_every);
	if (mtb_yaml_number(s->neck_diameter_mm, &n->neck_diameter_mm) != MTB_OK || !(n->neck_diameter_mm >= 1) ||
	    n->neck_diameter_mm > 2000)
		return FIELD_ERR("neck_diameter_mm", "must be within 1-2000 mm, got '%s'", s->neck_diameter_mm);
	/* Line spacing on the neck: one division's volume over the tube's cross-section. */
	double area_mm2 = M_PI / 4 * n->neck_diameter_mm * n->neck_diameter_mm;
	n->division_mm = (double)n->division_ul /* uL = mm3 */ / area_mm2;
	if (!(n->division_mm >= 0.2) || n->division_mm > 100)
		return FIELD_ERR("neck_diameter_mm", "a division of %g mL on a %g mm tube is %.3g mm long: not a readable scale (0.2-100 mm)",
				 (double)n->division_ul / 1000, n->neck_diameter_mm, n->division_mm);
	int64_t top;
	if (__builtin_mul_overflow(n->division_ul, (int64_t)n->divisions, &top) ||
	    __builtin_add_overflow(top, n->zero_ul, &top) || top > (int64_t)1e12)
		return FIELD_ERR("divisions", "the scale's top line is beyond 1 000 000 L");
	return MTB_OK;
}

static int validate_tolerance(const struct tolerance_yaml *t, const char *data, const char *origin,
			      struct mtb_vessel *v, struct mtb_errbuf *eb)
{
	v->u_ratio_max = 1.0 / 3.0;
	if (t->u_ratio_max && (mtb_yaml_number(t->u_ratio_max, &v->u_ratio_max) != MTB_OK ||
			       !(v->u_ratio_max > 0) || v->u_ratio_max > 1))
		return FIELD_ERR("u_ratio_max", "must be within (0, 1], got '%s'", t->u_ratio_max);

	for (unsigned i = 0; t->class_mpe_ml && i < t->class_mpe_ml_count; i++) {
		struct mtb_vessel_class_tol *c = &v->classes[i];
		char **row = t->class_mpe_ml[i];
		if (strlen(row[0]) >= sizeof c->name)
			return FIELD_ERR("class_mpe_ml", "row %u: class name '%s' is too long", i + 1, row[0]);
		snprintf(c->name, sizeof c->name, "%s", row[0]);
		if (volume(row[1], 3, &c->mpe_ul) != MTB_OK || c->mpe_ul < 1)
			return FIELD_ERR("class_mpe_ml", "row %u: MPE must be a volume > 0 in mL, got '%s'", i + 1, row[1]);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(v->classes[j].name, c->name) == 0)
				return FIELD_ERR("class_mpe_ml", "row %u: class '%s' given twice", i + 1, c->name);
		v->n_classes = (int)i + 1;
	}

	if (strcmp(t->rule, "mpe") == 0) {
		v->rule = MTB_TOL_MPE;
		if (!t->mpe_l)
			return FIELD_ERR("rule", "rule 'mpe' needs the vessel's MPE in 'mpe_l'");
		if (volume(t->mpe_l, 6, &v->mpe_ul) != MTB_OK || v->mpe_ul < 1)
			return FIELD_ERR("mpe_l", "must be a volume > 0 in litres, got '%s'", t->mpe_l);
	} else if (strcmp(t->rule, "one-division") == 0) {
		v->rule = MTB_TOL_ONE_DIVISION;
		if (t->mpe_l)
			return FIELD_ERR("mpe_l", "not used by rule 'one-division' (the MPE is one scale division)");
		v->mpe_ul = v->scale.division_ul;
	} else if (strcmp(t->rule, "class") == 0) {
		v->rule = MTB_TOL_CLASS;
		if (!t->vessel_class)
			return FIELD_ERR("rule", "rule 'class' needs the vessel's 'class'");
		if (v->n_classes == 0)
			return FIELD_ERR("rule", "rule 'class' needs the table 'class_mpe_ml'");
		snprintf(v->vessel_class, sizeof v->vessel_class, "%s", t->vessel_class);
		int found = -1;
		for (int i = 0; i < v->n_classes; i++)
			if (strcmp(v->classes[i].name, t->vessel_class) == 0)
				found = i;
		if (found < 0)
			return FIELD_ERR("class", "class '%s' is not in class_mpe_ml", t->vessel_class);
		v->mpe_ul = v->classes[found].mpe_ul;
	} else {
		return FIELD_ERR("rule", "must be mpe, one-division or class, got '%s'", t->rule);
	}
	return MTB_OK;
}

static int validate(const struct vessel_yaml *y, const char *data, const char *origin, struct mtb_vessel *v,
		    struct mtb_errbuf *eb)
{
	memset(v, 0, sizeof *v);
	if (strlen(y->name) >= sizeof v->name)
		return FIELD_ERR("name", "longer than %zu characters", sizeof v->name - 1);
	snprintf(v->name, sizeof v->name, "%s", y->name);
	if (strlen(y->material) >= sizeof v->material)
		return FIELD_ERR("material", "longer than %zu characters", sizeof v->material - 1);
	snprintf(v->material, sizeof v->material, "%s", y->material);

	if (strcmp(y->kind, "can") == 0)
		v->kind = MTB_VESSEL_CAN;
	else if (strcmp(y->kind, "cylinder") == 0)
		v->kind = MTB_VESSEL_CYLINDER;
	else
		return FIELD_ERR("kind", "must be can or cylinder, got '%s'", y->kind);

	if (volume(y->nominal_volume_l, 6, &v->nominal_ul) != MTB_OK || v->nominal_ul < 1000 ||
	    v->nominal_ul > (int64_t)1e12)
		return FIELD_ERR("nominal_volume_l", "must be a volume within 0.001-1000000 litres, got '%s'",
				 y->nominal_volume_l);
	/* Cubical expansion: glass ~1e-5, steels 3e-5 to 5.2e-5 /K (cans notes 1.2); 0 is a
	 * vessel with no thermal correction, refused: the lab must state a value. */
	if (mtb_yaml_number(y->expansion_per_k, &v->gamma_per_k) != MTB_OK || !(v->gamma_per_k > 0) ||
	    v->gamma_per_k > 2e-4)
		return FIELD_ERR("expansion_per_k", "must be a cubical expansion coefficient within (0, 0.0002] 1/K, got '%s'",
				 y->expansion_per_k);
	if (mtb_yaml_number(y->reference_temp_c, &v->ref_temp_c) != MTB_OK || v->ref_temp_c < 0 || v->ref_temp_c > 40)
		return FIELD_ERR("reference_temp_c", "must be within 0-40 C (the range of the water density formula), got '%s'",
				 y->reference_temp_c);

	if (strcmp(y->delivery, "to-deliver") == 0)
		v->delivery = MTB_VESSEL_TO_DELIVER;
	else if (strcmp(y->delivery, "to-contain") == 0)
		v->delivery = MTB_VESSEL_TO_CONTAIN;
	else
		return FIELD_ERR("delivery", "must be to-deliver or to-contain, got '%s'", y->delivery);
	if (v->delivery == MTB_VESSEL_TO_DELIVER) {
		if (!y->drain_time_s)
			return FIELD_ERR("delivery", "a to-deliver vessel needs 'drain_time_s'");
		if (mtb_yaml_number(y->drain_time_s, &v->drain_time_s) != MTB_OK || !(v->drain_time_s > 0) ||
		    v->drain_time_s > 3600)
			return FIELD_ERR("drain_time_s", "must be within (0, 3600] s, got '%s'", y->drain_time_s);
	} else if (y->drain_time_s) {
		return FIELD_ERR("drain_time_s", "only for a to-deliver vessel");
	}
	v->meniscus = MTB_MENISCUS_BOTTOM;
	if (y->meniscus) {
		if (strcmp(y->meniscus, "top") == 0)
			v->meniscus = MTB_MENISCUS_TOP;
		else if (strcmp(y->meniscus, "bottom") != 0)
			return FIELD_ERR("meniscus", "must be bottom (wetting liquids) or top (opaque liquids), got '%s'",
					 y->meniscus);
	}

	int rc = validate_scale(y->neck_scale, data, origin, v, eb);
	if (rc != MTB_OK)
		return rc;
	int64_t nominal_line = mtb_vessel_nominal_line_ul(v);
	if (v->kind == MTB_VESSEL_CAN && nominal_line != v->nominal_ul)
		return FIELD_ERR("nominal_div", "line %d stands for %.6f L, not the nominal %.6f L", v->scale.nominal_div,
				 (double)nominal_line / 1e6, (double)v->nominal_ul / 1e6);
	if (v->kind == MTB_VESSEL_CYLINDER && nominal_line > v->nominal_ul)
		return FIELD_ERR("nominal_div", "line %d stands for %.6f L, above the nominal %.6f L", v->scale.nominal_div,
				 (double)nominal_line / 1e6, (double)v->nominal_ul / 1e6);
	return validate_tolerance(y->tolerance, data, origin, v, eb);
}

int mtb_vessel_parse(const char *data, size_t len, const char *origin, struct mtb_vessel *out,
		     struct mtb_errbuf *eb)
{
	struct vessel_yaml *y;
	int rc = mtb_yaml_load_data(data, len, &VESSEL_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	rc = validate(y, data, origin, out, eb);
	mtb_yaml_free(&VESSEL_SCHEMA, y);
	return rc;
}

int mtb_vessel_load(const char *path_or_name, struct mtb_vessel *out, struct mtb_errbuf *eb)
{
	char path[1024], *buf;
	size_t len;
	int rc = mtb_config_read("vessels", path_or_name, path, sizeof path, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_vessel_parse(buf, len, path, out, eb);
	free(buf);
	return rc;
}

int64_t mtb_vessel_scale_volume_ul(const struct mtb_vessel *v, double level_div)
{
	return v->scale.zero_ul + llround(level_div * (double)v->scale.division_ul);
}

int64_t mtb_vessel_nominal_line_ul(const struct mtb_vessel *v)
{
	return v->scale.zero_ul + (int64_t)v->scale.nominal_div * v->scale.division_ul;
}

int64_t mtb_vessel_mpe_ul(const struct mtb_vessel *v)
{
	return v->mpe_ul;
}

enum mtb_vessel_verdict mtb_vessel_judge(const struct mtb_vessel *v, int64_t error_ul, int64_t u_exp_ul)
{
	int64_t mpe = mtb_vessel_mpe_ul(v);
	/* u_exp > ratio x MPE, decided on integers: ratio is held as parts per million. */
	int64_t ratio_ppm = llround(v->u_ratio_max * 1e6);
	if ((__int128)u_exp_ul * 1000000 > (__int128)ratio_ppm * mpe)
		return MTB_VESSEL_INVALID;
	int64_t a = error_ul < 0 ? -error_ul : error_ul;
	return a <= mpe ? MTB_VESSEL_PASS : MTB_VESSEL_FAIL;
}

const char *mtb_vessel_verdict_name(enum mtb_vessel_verdict verdict)
{
	switch (verdict) {
	case MTB_VESSEL_PASS: return "pass";
	case MTB_VESSEL_FAIL: return "fail";
	case MTB_VESSEL_INVALID: return "invalid";
	}
	return "?";
}

const char *mtb_vessel_rule_name(enum mtb_tolerance_rule rule)
{
	switch (rule) {
	case MTB_TOL_MPE: return "mpe";
	case MTB_TOL_ONE_DIVISION: return "one-division";
	case MTB_TOL_CLASS: return "class";
	}
	return "?";
}

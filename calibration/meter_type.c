#include "calibration/meter_type.h"

#include "core/config.h"
#include "core/yaml_load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The YAML as libcyaml fills it. Optional numbers are pointers so that "absent" (take the
 * default) differs from a value the lab wrote. */
struct meter_type_yaml {
	char *name;
	char *dn;
	char *q3_m3h;
	char *ratio;
	char *q2_q1;
	char *q4_q3;
	char *accuracy_class;
	char *temperature_class;
	char *scale_interval_l;
	char *register_layout;
	char *description;
};

/* Numbers are read as strings and converted strictly (see mtb_yaml_number). */
#define STR(key, member, min, flags) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), struct meter_type_yaml, member, min, 255)

static const cyaml_schema_field_t METER_TYPE_FIELDS[] = {
	STR("name", name, 1, 0),
	STR("dn", dn, 1, 0),
	STR("q3_m3h", q3_m3h, 1, 0),
	STR("ratio", ratio, 1, 0),
	STR("q2_q1", q2_q1, 1, CYAML_FLAG_OPTIONAL),
	STR("q4_q3", q4_q3, 1, CYAML_FLAG_OPTIONAL),
	STR("accuracy_class", accuracy_class, 1, 0),
	STR("temperature_class", temperature_class, 1, CYAML_FLAG_OPTIONAL),
	STR("scale_interval_l", scale_interval_l, 1, 0),
	STR("register_layout", register_layout, 1, 0),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct meter_type_yaml, description, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t METER_TYPE_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct meter_type_yaml, METER_TYPE_FIELDS),
};

/* Temperature classes of R 49-1 (standards-factsheet 1.3): T30 ... T180 and T30/xx, where the
 * last number is the maximum admissible temperature (MAT) in C. */
static int parse_temperature_class(const char *s, int32_t *mat_mdegc)
{
	static const char *const classes[] = { "T30", "T50", "T70", "T90", "T130", "T180",
					       "T30/70", "T30/90", "T30/130", "T30/180", NULL };
	for (int i = 0; classes[i]; i++) {
		if (strcmp(s, classes[i]) == 0) {
			const char *num = strrchr(s, '/');
			num = num ? num + 1 : s + 1;
			*mat_mdegc = (int32_t)atoi(num) * 1000;
			return MTB_OK;
		}
	}
	return MTB_ERR_ARG;
}

/* R 49-1:2024 6.7.3: the verification scale interval is 1, 2 or 5 x 10^n m3. */
static int scale_interval_to_ul(double litres, int64_t *out_ul)
{
	if (!(litres > 0) || !isfinite(litres) || litres > 1e6)
		return MTB_ERR_RANGE;
	double ul = litres * 1e6;
	int64_t r = llround(ul);
	if (r < 1 || fabs(ul - (double)r) > 1e-6 * ul)
		return MTB_ERR_RANGE;
	int64_t m = r;
	while (m % 10 == 0)
		m /= 10;
	if (m != 1 && m != 2 && m != 5)
		return MTB_ERR_RANGE;
	*out_ul = r;
	return MTB_OK;
}

/* "FILE: line L: field 'F': why", the line found in the raw text when the key is there. */
#define FIELD_ERR(field, ...) mtb_yaml_field_err(eb, data, origin, field, __VA_ARGS__)

#define NUMBER(field, text, dst) \
	do { \
		if (mtb_yaml_number(text, dst) != MTB_OK) \
			return FIELD_ERR(field, "not a number: '%s'", text); \
	} while (0)

static int validate(const struct meter_type_yaml *y, const char *data, const char *origin,
		    struct mtb_meter_type *t, struct mtb_errbuf *eb)
{
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", y->name);
	if (strlen(y->name) >= sizeof t->name)
		return FIELD_ERR("name", "longer than %zu characters", sizeof t->name - 1);
	snprintf(t->register_layout, sizeof t->register_layout, "%s", y->register_layout);
	if (strlen(y->register_layout) >= sizeof t->register_layout)
		return FIELD_ERR("register_layout", "longer than %zu characters", sizeof t->register_layout - 1);

	long dn, cls;
	if (mtb_yaml_integer(y->dn, &dn) != MTB_OK || dn < 6 || dn > 3000)
		return FIELD_ERR("dn", "must be a nominal size in mm (6-3000), got '%s'", y->dn);
	t->dn = (int)dn;
	NUMBER("q3_m3h", y->q3_m3h, &t->q3_m3h);
	if (!(t->q3_m3h > 0))
		return FIELD_ERR("q3_m3h", "must be > 0, got %s", y->q3_m3h);
	NUMBER("ratio", y->ratio, &t->ratio);
	if (!(t->ratio >= 10) || t->ratio > 1000)
		return FIELD_ERR("ratio", "R = Q3/Q1 must be within 10-1000, got %s", y->ratio);
	t->q2_q1 = 1.6;
	if (y->q2_q1)
		NUMBER("q2_q1", y->q2_q1, &t->q2_q1);
	if (!(t->q2_q1 > 1) || t->q2_q1 > 16)
		return FIELD_ERR("q2_q1", "must be within 1-16, got %g", t->q2_q1);
	t->q4_q3 = 1.25;
	if (y->q4_q3)
		NUMBER("q4_q3", y->q4_q3, &t->q4_q3);
	if (!(t->q4_q3 >= 1) || t->q4_q3 > 4)
		return FIELD_ERR("q4_q3", "must be within 1-4, got %g", t->q4_q3);
	if (mtb_yaml_integer(y->accuracy_class, &cls) != MTB_OK || (cls != 1 && cls != 2))
		return FIELD_ERR("accuracy_class", "must be 1 or 2, got '%s'", y->accuracy_class);
	t->accuracy_class = (int)cls;
	snprintf(t->temperature_class, sizeof t->temperature_class, "%s",
		 y->temperature_class ? y->temperature_class : "T30");
	if (parse_temperature_class(y->temperature_class ? y->temperature_class : "T30", &t->max_temp_mdegc) != MTB_OK)
		return FIELD_ERR("temperature_class", "unknown class '%s' (T30, T50, T70, T90, T130, T180, T30/70, T30/90, T30/130, T30/180)",
				 y->temperature_class);
	double si;
	NUMBER("scale_interval_l", y->scale_interval_l, &si);
	if (scale_interval_to_ul(si, &t->scale_interval_ul) != MTB_OK)
		return FIELD_ERR("scale_interval_l", "must be 1, 2 or 5 x 10^n litres, got %s", y->scale_interval_l);
	if (mtb_flow_range_make(t->q3_m3h, t->ratio, t->q2_q1, t->q4_q3, &t->flow) != MTB_OK)
		return FIELD_ERR("q2_q1", "Q2/Q1 = %g must be below R = %g", t->q2_q1, t->ratio);
	return MTB_OK;
}

int mtb_meter_type_parse(const char *data, size_t len, const char *origin,
			 struct mtb_meter_type *out, struct mtb_errbuf *eb)
{
	struct meter_type_yaml *y;
	int rc = mtb_yaml_load_data(data, len, &METER_TYPE_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	rc = validate(y, data, origin, out, eb);
	mtb_yaml_free(&METER_TYPE_SCHEMA, y);
	return rc;
}

int mtb_meter_type_load(const char *path_or_name, struct mtb_meter_type *out, struct mtb_errbuf *eb)
{
	char path[1024], *buf;
	size_t len;
	int rc = mtb_config_read("types", path_or_name, path, sizeof path, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_meter_type_parse(buf, len, path, out, eb);
	free(buf);
	return rc;
}

#include "calibration/reference.h"

#include "calibration/date.h"
#include "core/config.h"
#include "core/yaml_load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers are strings in the schema and converted strictly (core/yaml_load.h). */
struct cert_yaml {
	char *number;
	char *issued_by;
	char *issued;
	char *valid_until;
};

struct reference_yaml {
	char *name;
	char *kind;
	char *manufacturer;
	char *model;
	char *serial;
	struct cert_yaml *certificate;
	char ***error_curve;        /* rows of exactly 3 cells: flow_lph, error_pct, u_exp_pct */
	unsigned error_curve_count;
};

static const cyaml_schema_value_t CELL = { CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 64) };

static const cyaml_schema_value_t ROW = {
	CYAML_VALUE_SEQUENCE_FIXED(CYAML_FLAG_POINTER, char *, &CELL, 3),
};

#define STR(key, st, member, flags, max) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), st, member, 1, max)

static const cyaml_schema_field_t CERT_FIELDS[] = {
	STR("number", struct cert_yaml, number, 0, 63),
	STR("issued_by", struct cert_yaml, issued_by, 0, 127),
	STR("issued", struct cert_yaml, issued, 0, 32),
	STR("valid_until", struct cert_yaml, valid_until, 0, 32),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t REFERENCE_FIELDS[] = {
	STR("name", struct reference_yaml, name, 0, 63),
	STR("kind", struct reference_yaml, kind, 0, 31),
	STR("manufacturer", struct reference_yaml, manufacturer, CYAML_FLAG_OPTIONAL, 63),
	STR("model", struct reference_yaml, model, CYAML_FLAG_OPTIONAL, 63),
	STR("serial", struct reference_yaml, serial, 0, 63),
	CYAML_FIELD_MAPPING_PTR("certificate", CYAML_FLAG_POINTER, struct reference_yaml, certificate, CERT_FIELDS),
	CYAML_FIELD_SEQUENCE("error_curve", CYAML_FLAG_POINTER, struct reference_yaml, error_curve, &ROW, 1,
			     MTB_REF_MAX_POINTS),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t REFERENCE_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct reference_yaml, REFERENCE_FIELDS),
};

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int validate(const struct reference_yaml *y, const char *data, const char *origin,
		    struct mtb_reference *r, struct mtb_errbuf *eb)
{
	memset(r, 0, sizeof *r);
	copy(r->name, sizeof r->name, y->name);
	copy(r->kind, sizeof r->kind, y->kind);
	copy(r->manufacturer, sizeof r->manufacturer, y->manufacturer);
	copy(r->model, sizeof r->model, y->model);
	copy(r->serial, sizeof r->serial, y->serial);
	copy(r->cert_number, sizeof r->cert_number, y->certificate->number);
	copy(r->cert_issued_by, sizeof r->cert_issued_by, y->certificate->issued_by);
	if (mtb_date_parse(y->certificate->issued, &r->cert_issued_day) != MTB_OK)
		return mtb_yaml_field_err(eb, data, origin, "issued", "not a date YYYY-MM-DD: '%s'", y->certificate->issued);
	if (mtb_date_parse(y->certificate->valid_until, &r->cert_valid_until_day) != MTB_OK)
		return mtb_yaml_field_err(eb, data, origin, "valid_until", "not a date YYYY-MM-DD: '%s'",
				 y->certificate->valid_until);
	if (r->cert_valid_until_day < r->cert_issued_day)
		return mtb_yaml_field_err(eb, data, origin, "valid_until", "before the issue date %s", y->certificate->issued);

	r->n_points = (int)y->error_curve_count;
	for (unsigned i = 0; i < y->error_curve_count; i++) {
		char **row = y->error_curve[i];
		double flow, err_pct, u_pct;
		if (mtb_yaml_number(row[0], &flow) != MTB_OK || mtb_yaml_number(row[1], &err_pct) != MTB_OK ||
		    mtb_yaml_number(row[2], &u_pct) != MTB_OK)
			return mtb_yaml_field_err(eb, data, origin, "error_curve", "row %u: [flow_lph, error_pct, u_exp_pct] must be numbers, got [%s, %s, %s]",
					 i + 1, row[0], row[1], row[2]);
		if (!(flow > 0))
			return mtb_yaml_field_err(eb, data, origin, "error_curve", "row %u: flow must be > 0, got %s", i + 1, row[0]);
		if (fabs(err_pct) >= 10)
			return mtb_yaml_field_err(eb, data, origin, "error_curve", "row %u: an error of %s %% is no reference", i + 1, row[1]);
		if (!(u_pct > 0) || u_pct >= 10)
			return mtb_yaml_field_err(eb, data, origin, "error_curve", "row %u: u_exp_pct must be > 0 and < 10, got %s", i + 1, row[2]);
		if (i > 0 && !(flow > r->points[i - 1].flow_lph))
			return mtb_yaml_field_err(eb, data, origin, "error_curve", "row %u: flows must increase (%s after %g)", i + 1,
					 row[0], r->points[i - 1].flow_lph);
		r->points[i] = (struct mtb_ref_point){ flow, err_pct / 100.0, u_pct / 100.0 };
	}
	return MTB_OK;
}

int mtb_reference_parse(const char *data, size_t len, const char *origin, struct mtb_reference *out,
			struct mtb_errbuf *eb)
{
	struct reference_yaml *y;
	int rc = mtb_yaml_load_data(data, len, &REFERENCE_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	rc = validate(y, data, origin, out, eb);
	mtb_yaml_free(&REFERENCE_SCHEMA, y);
	return rc;
}

int mtb_reference_load(const char *path_or_name, struct mtb_reference *out, struct mtb_errbuf *eb)
{
	char path[1024], *buf;
	size_t len;
	int rc = mtb_config_read("references", path_or_name, path, sizeof path, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_reference_parse(buf, len, path, out, eb);
	free(buf);
	return rc;
}

void mtb_reference_error_at(const struct mtb_reference *ref, double flow_lph, double *error, double *u_exp)
{
	const struct mtb_ref_point *p = ref->points;
	int n = ref->n_points;
	if (flow_lph <= p[0].flow_lph) {
		*error = p[0].error;
		*u_exp = p[0].u_exp;
		return;
	}
	for (int i = 1; i < n; i++) {
		if (flow_lph <= p[i].flow_lph) {
			double f = (flow_lph - p[i - 1].flow_lph) / (p[i].flow_lph - p[i - 1].flow_lph);
			*error = p[i - 1].error + f * (p[i].error - p[i - 1].error);
			/* U between points: the larger of the two neighbours, never an interpolated
			 * value smaller than what was measured on either side. */
			*u_exp = p[i - 1].u_exp > p[i].u_exp ? p[i - 1].u_exp : p[i].u_exp;
			return;
		}
	}
	*error = p[n - 1].error;
	*u_exp = p[n - 1].u_exp;
}

int mtb_reference_check_valid(const struct mtb_reference *ref, int32_t day, struct mtb_errbuf *eb)
{
	char d[11];
	if (day > ref->cert_valid_until_day) {
		mtb_date_format(ref->cert_valid_until_day, d);
		return mtb_errbuf_set(eb, MTB_ERR_STATE, "certificate %s of reference %s expired on %s",
				      ref->cert_number, ref->name, d);
	}
	if (day < ref->cert_issued_day) {
		mtb_date_format(ref->cert_issued_day, d);
		return mtb_errbuf_set(eb, MTB_ERR_STATE, "certificate %s of reference %s is dated %s, after today",
				      ref->cert_number, ref->name, d);
	}
	return MTB_OK;
}

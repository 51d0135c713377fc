#include "bench/plan.h"

#include "core/config.h"
#include "core/yaml_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers are strings in the schema and converted strictly (core/yaml_load.h). */
struct meter_yaml {
	char *position;
	char *serial;
};

struct point_yaml {
	char *name;
	char *base;
	char *from;
	char *to;
	char *min_volume_l;
	char *max_volume_l;
};

struct dispute_yaml {
	char *customer;
	char *utility;
	char *case_number;
};

struct plan_yaml {
	char *name;
	char *description;
	char *meter_type;
	char *standard;
	char *mode;
	char *jurisdiction;
	char *start;
	char *operator_name;
	struct meter_yaml *meters;
	unsigned meters_count;
	struct point_yaml *points;
	unsigned points_count;
	struct dispute_yaml *dispute;
};

#define STR(key, st, member, flags) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), st, member, 1, 127)
#define OPT CYAML_FLAG_OPTIONAL

static const cyaml_schema_field_t METER_FIELDS[] = {
	STR("position", struct meter_yaml, position, 0),
	STR("serial", struct meter_yaml, serial, 0),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t METER = { CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct meter_yaml, METER_FIELDS) };

static const cyaml_schema_field_t POINT_FIELDS[] = {
	STR("name", struct point_yaml, name, 0),
	STR("base", struct point_yaml, base, 0),
	STR("from", struct point_yaml, from, 0),
	STR("to", struct point_yaml, to, 0),
	STR("min_volume_l", struct point_yaml, min_volume_l, OPT),
	STR("max_volume_l", struct point_yaml, max_volume_l, OPT),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t POINT = { CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct point_yaml, POINT_FIELDS) };

static const cyaml_schema_field_t DISPUTE_FIELDS[] = {
	STR("customer", struct dispute_yaml, customer, 0),
	STR("utility", struct dispute_yaml, utility, 0),
	STR("case_number", struct dispute_yaml, case_number, 0),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t PLAN_FIELDS[] = {
	STR("name", struct plan_yaml, name, 0),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER | OPT, struct plan_yaml, description, 0, CYAML_UNLIMITED),
	STR("meter_type", struct plan_yaml, meter_type, 0),
	STR("standard", struct plan_yaml, standard, 0),
	STR("mode", struct plan_yaml, mode, 0),
	STR("jurisdiction", struct plan_yaml, jurisdiction, OPT),
	STR("start", struct plan_yaml, start, OPT),
	STR("operator", struct plan_yaml, operator_name, OPT),
	CYAML_FIELD_SEQUENCE("meters", CYAML_FLAG_POINTER, struct plan_yaml, meters, &METER, 1, MTB_PLAN_MAX_METERS),
	CYAML_FIELD_SEQUENCE("points", CYAML_FLAG_POINTER | OPT, struct plan_yaml, points, &POINT, 1, MTB_PLAN_MAX_POINTS),
	CYAML_FIELD_MAPPING_PTR("dispute", CYAML_FLAG_POINTER | OPT, struct plan_yaml, dispute, DISPUTE_FIELDS),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t PLAN_SCHEMA = { CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct plan_yaml, PLAN_FIELDS) };

const char *mtb_plan_mode_name(enum mtb_plan_mode m)
{
	switch (m) {
	case MTB_PLAN_IN_SERVICE: return "in-service";
	case MTB_PLAN_DISPUTE: return "dispute";
	case MTB_PLAN_VERIFICATION: break;
	}
	return "verification";
}

const char *mtb_start_name(enum mtb_start s)
{
	return s == MTB_START_STANDING ? "standing" : "flying";
}

enum mtb_mode mtb_plan_mpe_mode(const struct mtb_plan *p)
{
	return p->mode == MTB_PLAN_VERIFICATION ? MTB_MODE_VERIFICATION : MTB_MODE_IN_SERVICE;
}

#define FERR(field, ...) mtb_yaml_field_err(eb, data, origin, field, __VA_ARGS__)

static int copy_field(char *dst, size_t n, const char *src, const char *data, const char *origin,
		      const char *field, struct mtb_errbuf *eb)
{
	if (strlen(src) >= n)
		return FERR(field, "longer than %zu characters", n - 1);
	memcpy(dst, src, strlen(src) + 1);
	return MTB_OK;
}

static double base_flow(const struct mtb_flow_range *r, enum mtb_flow_base b)
{
	switch (b) {
	case MTB_BASE_Q1: return r->q1_lph;
	case MTB_BASE_Q2: return r->q2_lph;
	case MTB_BASE_Q3: return r->q3_lph;
	case MTB_BASE_Q4: return r->q4_lph;
	}
	return 0;
}

/* Initial verification at Q1 <= Q <= 1.1 Q1, Q2 <= Q <= 1.1 Q2, 0.9 Q3 <= Q <= Q3
 * (R 49-1:2013 7.2.3 as recalled, standards-factsheet 1.6, [U]): defaults a plan may replace. */
static const struct mtb_plan_point DEFAULT_POINTS[] = {
	{ .name = "Q1", .base = MTB_BASE_Q1, .from = 1.0, .to = 1.1 },
	{ .name = "Q2", .base = MTB_BASE_Q2, .from = 1.0, .to = 1.1 },
	{ .name = "Q3", .base = MTB_BASE_Q3, .from = 0.9, .to = 1.0 },
};

/* Default bounds on the test volume, litres, when the plan gives none: small near Q1 where the
 * flow is slow and the camera's resolution allows it, larger at Q3 where start/stop timing
 * matters more. The run picks the volume within them from the resolution achieved. */
static void default_volumes(enum mtb_flow_base b, double *min_l, double *max_l)
{
	*min_l = (b == MTB_BASE_Q1 || b == MTB_BASE_Q2) ? 0.5 : 10;
	*max_l = b == MTB_BASE_Q1 ? 20 : b == MTB_BASE_Q2 ? 50 : 200;
}

static int parse_point(const struct point_yaml *y, unsigned i, const char *data, const char *origin,
		       struct mtb_plan_point *p, struct mtb_errbuf *eb)
{
	memset(p, 0, sizeof *p);
	if (strlen(y->name) >= sizeof p->name)
		return FERR("name", "point %u: name longer than %zu characters", i + 1, sizeof p->name - 1);
	strcpy(p->name, y->name);
	static const char *const bases[] = { "q1", "q2", "q3", "q4" };
	int b = -1;
	for (int k = 0; k < 4; k++)
		if (strcmp(y->base, bases[k]) == 0 || (y->base[0] == 'Q' && strcmp(y->base + 1, bases[k] + 1) == 0))
			b = k;
	if (b < 0)
		return FERR("base", "point %s: must be q1, q2, q3 or q4, got '%s'", p->name, y->base);
	p->base = (enum mtb_flow_base)b;
	if (mtb_yaml_number(y->from, &p->from) != MTB_OK || !(p->from > 0))
		return FERR("from", "point %s: must be a number > 0, got '%s'", p->name, y->from);
	if (mtb_yaml_number(y->to, &p->to) != MTB_OK || !(p->to >= p->from))
		return FERR("to", "point %s: must be a number >= from (%g), got '%s'", p->name, p->from, y->to);
	default_volumes(p->base, &p->min_volume_l, &p->max_volume_l);
	if (y->min_volume_l && (mtb_yaml_number(y->min_volume_l, &p->min_volume_l) != MTB_OK || !(p->min_volume_l > 0)))
		return FERR("min_volume_l", "point %s: must be a number > 0, got '%s'", p->name, y->min_volume_l);
	if (y->max_volume_l && (mtb_yaml_number(y->max_volume_l, &p->max_volume_l) != MTB_OK ||
				!(p->max_volume_l >= p->min_volume_l) || p->max_volume_l > 100000))
		return FERR("max_volume_l", "point %s: must be a number >= min_volume_l (%g) and <= 100000, got '%s'",
			    p->name, p->min_volume_l, y->max_volume_l);
	return MTB_OK;
}

static int validate(const struct plan_yaml *y, const char *data, const char *origin, struct mtb_plan *p,
		    struct mtb_errbuf *eb)
{
	int rc;
	memset(p, 0, sizeof *p);
	if ((rc = copy_field(p->name, sizeof p->name, y->name, data, origin, "name", eb)))
		return rc;
	struct mtb_errbuf teb = { { 0 } };
	if (mtb_meter_type_load(y->meter_type, &p->type, &teb) != MTB_OK)
		return FERR("meter_type", "%s", teb.msg);
	p->rules = mtb_rule_set_find(y->standard);
	if (!p->rules)
		return FERR("standard", "unknown rule set '%s' (r49-2013, r49-2024)", y->standard);
	if (strcmp(y->mode, "verification") == 0)
		p->mode = MTB_PLAN_VERIFICATION;
	else if (strcmp(y->mode, "in-service") == 0)
		p->mode = MTB_PLAN_IN_SERVICE;
	else if (strcmp(y->mode, "dispute") == 0)
		p->mode = MTB_PLAN_DISPUTE;
	else
		return FERR("mode", "must be verification, in-service or dispute, got '%s'", y->mode);
	if ((rc = copy_field(p->jurisdiction, sizeof p->jurisdiction, y->jurisdiction ? y->jurisdiction : "default",
			     data, origin, "jurisdiction", eb)))
		return rc;
	if (!y->start || strcmp(y->start, "flying") == 0)
		p->start = MTB_START_FLYING;
	else if (strcmp(y->start, "standing") == 0)
		p->start = MTB_START_STANDING;
	else
		return FERR("start", "must be flying or standing, got '%s'", y->start);
	if (y->operator_name && (rc = copy_field(p->operator_name, sizeof p->operator_name, y->operator_name, data,
						 origin, "operator", eb)))
		return rc;

	p->n_meters = (int)y->meters_count;
	for (unsigned i = 0; i < y->meters_count; i++) {
		struct mtb_plan_meter *m = &p->meters[i];
		long pos;
		if (mtb_yaml_integer(y->meters[i].position, &pos) != MTB_OK || pos < 1 || pos > MTB_PLAN_MAX_METERS)
			return FERR("position", "meter %u: must be an integer 1-%d, got '%s'", i + 1, MTB_PLAN_MAX_METERS,
				    y->meters[i].position);
		m->position = (int)pos;
		if (strlen(y->meters[i].serial) >= sizeof m->serial)
			return FERR("serial", "meter %u: longer than %zu characters", i + 1, sizeof m->serial - 1);
		strcpy(m->serial, y->meters[i].serial);
		for (unsigned k = 0; k < i; k++) {
			if (p->meters[k].position == m->position)
				return FERR("position", "meter %u: position %d is already taken by %s", i + 1, m->position,
					    p->meters[k].serial);
			if (strcmp(p->meters[k].serial, m->serial) == 0)
				return FERR("serial", "meter %u: serial %s appears twice", i + 1, m->serial);
		}
	}

	if (y->points) {
		p->n_points = (int)y->points_count;
		for (unsigned i = 0; i < y->points_count; i++) {
			if ((rc = parse_point(&y->points[i], i, data, origin, &p->points[i], eb)))
				return rc;
			for (unsigned k = 0; k < i; k++)
				if (strcmp(p->points[k].name, p->points[i].name) == 0)
					return FERR("name", "point name %s appears twice", p->points[i].name);
		}
	} else {
		p->n_points = (int)(sizeof DEFAULT_POINTS / sizeof DEFAULT_POINTS[0]);
		memcpy(p->points, DEFAULT_POINTS, sizeof DEFAULT_POINTS);
		for (int i = 0; i < p->n_points; i++)
			default_volumes(p->points[i].base, &p->points[i].min_volume_l, &p->points[i].max_volume_l);
	}
	for (int i = 0; i < p->n_points; i++) {
		struct mtb_plan_point *pt = &p->points[i];
		double b = base_flow(&p->type.flow, pt->base);
		pt->min_lph = b * pt->from;
		pt->max_lph = b * pt->to;
		pt->flow_lph = (pt->min_lph + pt->max_lph) / 2;
		if (mtb_zone_of(&p->type.flow, pt->min_lph) == MTB_ZONE_OUT_OF_RANGE ||
		    mtb_zone_of(&p->type.flow, pt->max_lph) == MTB_ZONE_OUT_OF_RANGE)
			return FERR("points", "point %s: %g-%g L/h lies outside Q1-Q4 of %s (%g-%g L/h)", pt->name,
				    pt->min_lph, pt->max_lph, p->type.name, p->type.flow.q1_lph, p->type.flow.q4_lph);
	}

	if (p->mode == MTB_PLAN_DISPUTE) {
		if (!y->dispute)
			return FERR("dispute", "a dispute plan needs customer, utility and case_number");
		if ((rc = copy_field(p->customer, sizeof p->customer, y->dispute->customer, data, origin, "customer", eb)) ||
		    (rc = copy_field(p->utility, sizeof p->utility, y->dispute->utility, data, origin, "utility", eb)) ||
		    (rc = copy_field(p->case_number, sizeof p->case_number, y->dispute->case_number, data, origin,
				     "case_number", eb)))
			return rc;
	} else if (y->dispute) {
		return FERR("dispute", "only a plan with mode: dispute has a dispute section");
	}
	return MTB_OK;
}

int mtb_plan_parse(const char *data, size_t len, const char *origin, struct mtb_plan *out, struct mtb_errbuf *eb)
{
	struct plan_yaml *y;
	int rc = mtb_yaml_load_data(data, len, &PLAN_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	rc = validate(y, data, origin, out, eb);
	mtb_yaml_free(&PLAN_SCHEMA, y);
	return rc;
}

int mtb_plan_load(const char *path_or_name, struct mtb_plan *out, struct mtb_errbuf *eb)
{
	char path[1024], *buf;
	size_t len;
	int rc = mtb_config_read("plans", path_or_name, path, sizeof path, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_plan_parse(buf, len, path, out, eb);
	free(buf);
	return rc;
}

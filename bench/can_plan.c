/* Can plans (bench/can_plan.h). */
#include "bench/can_plan.h"

#include "core/yaml_load.h"

#include <cyaml/cyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Uncertainty inputs: the keys are what the lab knows of its instruments (standard
 * uncertainties, k = 1). */
#define U_KEYS(X) \
	X(balance_mg) X(water_temp_c) X(water_density_kgm3) X(air_temp_c) X(pressure_hpa) X(humidity_pct) \
	X(air_formula_rel) X(weights_density_kgm3) X(gamma_rel) X(reading_div) X(drain_ml)

struct u_yaml {
#define X(k) char *k;
	U_KEYS(X)
#undef X
};

struct can_plan_yaml {
	char *kind, *name, *description, *vessel, *serial, *operator_name, *customer;
	char *runs, *fill_flow_lps, *settle_s, *stable_timeout_s, *poll_s, *meniscus_tries;
	char *fill_aim_div, *fill_tolerance_div, *coarse_stop_div, *topup_tolerance_div;
	char *air_saturated_water;
	struct u_yaml *u;
};

#define STR(key, member, flags) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), struct can_plan_yaml, member, 1, 127)
#define OPT CYAML_FLAG_OPTIONAL

static const cyaml_schema_field_t U_FIELDS[] = {
#define X(k) CYAML_FIELD_STRING_PTR(#k, CYAML_FLAG_POINTER | OPT, struct u_yaml, k, 1, 64),
	U_KEYS(X)
#undef X
	CYAML_FIELD_END
};

static const cyaml_schema_field_t FIELDS[] = {
	STR("kind", kind, 0),
	STR("name", name, 0),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER | OPT, struct can_plan_yaml, description, 0, CYAML_UNLIMITED),
	STR("vessel", vessel, 0),
	STR("serial", serial, 0),
	STR("operator", operator_name, OPT),
	STR("customer", customer, OPT),
	STR("runs", runs, OPT),
	STR("fill_flow_lps", fill_flow_lps, OPT),
	STR("settle_s", settle_s, OPT),
	STR("stable_timeout_s", stable_timeout_s, OPT),
	STR("poll_s", poll_s, OPT),
	STR("meniscus_tries", meniscus_tries, OPT),
	STR("fill_aim_div", fill_aim_div, OPT),
	STR("fill_tolerance_div", fill_tolerance_div, OPT),
	STR("coarse_stop_div", coarse_stop_div, OPT),
	STR("topup_tolerance_div", topup_tolerance_div, OPT),
	STR("air_saturated_water", air_saturated_water, OPT),
	CYAML_FIELD_MAPPING_PTR("uncertainty", CYAML_FLAG_POINTER | OPT, struct can_plan_yaml, u, U_FIELDS),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t SCHEMA = { CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct can_plan_yaml, FIELDS) };

bool mtb_can_plan_detect(const char *data, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && data[e] != '\n')
			e++;
		if (e - i >= 5 && memcmp(data + i, "kind:", 5) == 0) {
			size_t p = i + 5;
			while (p < e && (data[p] == ' ' || data[p] == '\t'))
				p++;
			size_t q = p;
			while (q < e && data[q] != ' ' && data[q] != '\t' && data[q] != '#' && data[q] != '\r')
				q++;
			return (q - p == 3 && memcmp(data + p, "can", 3) == 0) ||
			       (q - p == 5 && (memcmp(data + p, "\"can\"", 5) == 0 || memcmp(data + p, "'can'", 5) == 0));
		}
		i = e + 1;
	}
	return false;
}

/* "ORIGIN: line L: field 'F': why", the line found by the key's last component (a nested
 * key such as uncertainty.gamma_rel sits on its own line). */
static int field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *field, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	const char *key = strrchr(field, '.');
	int line = mtb_yaml_key_line(data, key ? key + 1 : field);
	if (line > 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: line %d: field '%s': %s", origin, line, field, why);
	return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: field '%s': %s", origin, field, why);
}

#define FERR(field, ...) field_err(eb, data, origin, field, __VA_ARGS__)

static int copy(char *dst, size_t n, const char *src, const char *data, const char *origin, const char *field,
		struct mtb_errbuf *eb)
{
	if (!src)
		return MTB_OK;
	if (strlen(src) >= n)
		return FERR(field, "longer than %zu characters", n - 1);
	memcpy(dst, src, strlen(src) + 1);
	return MTB_OK;
}

static int num(const char *text, double min, double max, double *out, const char *data, const char *origin,
	       const char *field, struct mtb_errbuf *eb)
{
	if (!text)
		return MTB_OK;
	double v;
	if (mtb_yaml_number(text, &v) != MTB_OK)
		return FERR(field, "not a number: '%s'", text);
	if (!(v >= min && v <= max))
		return FERR(field, "must be within %g-%g, got %s", min, max, text);
	*out = v;
	return MTB_OK;
}

static int whole(const char *text, long min, long max, int *out, const char *data, const char *origin,
		 const char *field, struct mtb_errbuf *eb)
{
	if (!text)
		return MTB_OK;
	long v;
	if (mtb_yaml_integer(text, &v) != MTB_OK)
		return FERR(field, "not a whole number: '%s'", text);
	if (v < min || v > max)
		return FERR(field, "must be within %ld-%ld, got %s", min, max, text);
	*out = (int)v;
	return MTB_OK;
}

#define TRY(x) \
	do { \
		int rc_ = (x); \
		if (rc_ != MTB_OK) \
			return rc_; \
	} while (0)

static int validate(const struct can_plan_yaml *y, const char *data, const char *origin, struct mtb_can_plan_file *o,
		    struct mtb_errbuf *eb)
{
	memset(o, 0, sizeof *o);
	if (strcmp(y->kind, "can") != 0)
		return FERR("kind", "must be 'can' for a can plan, got '%s'", y->kind);
	TRY(copy(o->name, sizeof o->name, y->name, data, origin, "name", eb));
	TRY(copy(o->vessel_name, sizeof o->vessel_name, y->vessel, data, origin, "vessel", eb));
	TRY(copy(o->serial, sizeof o->serial, y->serial, data, origin, "serial", eb));
	TRY(copy(o->operator_name, sizeof o->operator_name, y->operator_name, data, origin, "operator", eb));
	TRY(copy(o->customer, sizeof o->customer, y->customer, data, origin, "customer", eb));
	struct mtb_can_plan *p = &o->plan;
	mtb_can_plan_defaults(p);
	TRY(whole(y->runs, 1, MTB_CAN_MAX_RUNS, &p->runs, data, origin, "runs", eb));
	TRY(num(y->fill_flow_lps, 1e-6, 1000, &p->fill_flow_lps, data, origin, "fill_flow_lps", eb));
	TRY(num(y->settle_s, 0, 3600, &p->settle_s, data, origin, "settle_s", eb));
	TRY(num(y->stable_timeout_s, 0.1, 3600, &p->stable_timeout_s, data, origin, "stable_timeout_s", eb));
	TRY(num(y->poll_s, 0.01, 60, &p->poll_s, data, origin, "poll_s", eb));
	TRY(whole(y->meniscus_tries, 1, 20, &p->meniscus_tries, data, origin, "meniscus_tries", eb));
	TRY(num(y->fill_aim_div, -10, 10, &p->fill_aim_div, data, origin, "fill_aim_div", eb));
	TRY(num(y->fill_tolerance_div, 0.01, 5, &p->fill_tolerance_div, data, origin, "fill_tolerance_div", eb));
	TRY(num(y->coarse_stop_div, 0, 50, &p->coarse_stop_div, data, origin, "coarse_stop_div", eb));
	TRY(num(y->topup_tolerance_div, 0, 5, &p->topup_tolerance_div, data, origin, "topup_tolerance_div", eb));
	if (y->air_saturated_water) {
		if (strcmp(y->air_saturated_water, "true") == 0)
			p->u.air_saturated_water = true;
		else if (strcmp(y->air_saturated_water, "false") != 0)
			return FERR("air_saturated_water", "must be true or false, got '%s'", y->air_saturated_water);
	}
	const struct u_yaml *u = y->u;
	if (u) {
		struct mtb_can_u_in *k = &p->u;
		double drain_ml = 0;
		TRY(num(u->balance_mg, 0, 1e7, &k->balance_u_mg, data, origin, "uncertainty.balance_mg", eb));
		TRY(num(u->water_temp_c, 0, 10, &k->water_temp_u_c, data, origin, "uncertainty.water_temp_c", eb));
		TRY(num(u->water_density_kgm3, 0, 10, &k->water_density_u_kgm3, data, origin, "uncertainty.water_density_kgm3", eb));
		TRY(num(u->air_temp_c, 0, 10, &k->air_temp_u_c, data, origin, "uncertainty.air_temp_c", eb));
		TRY(num(u->pressure_hpa, 0, 100, &k->p_u_hpa, data, origin, "uncertainty.pressure_hpa", eb));
		TRY(num(u->humidity_pct, 0, 100, &k->rh_u_pct, data, origin, "uncertainty.humidity_pct", eb));
		TRY(num(u->air_formula_rel, 0, 0.1, &k->air_formula_u_rel, data, origin, "uncertainty.air_formula_rel", eb));
		TRY(num(u->weights_density_kgm3, 0, 1000, &k->rho_weights_u_kgm3, data, origin, "uncertainty.weights_density_kgm3", eb));
		TRY(num(u->gamma_rel, 0, 1, &k->gamma_u_rel, data, origin, "uncertainty.gamma_rel", eb));
		TRY(num(u->reading_div, 0, 10, &k->reading_u_div, data, origin, "uncertainty.reading_div", eb));
		TRY(num(u->drain_ml, 0, 1e4, &drain_ml, data, origin, "uncertainty.drain_ml", eb));
		k->drain_u_ul = drain_ml * 1000;
	}
	return MTB_OK;
}

int mtb_can_plan_parse(const char *data, size_t len, const char *origin, struct mtb_can_plan_file *out,
		       struct mtb_errbuf *eb)
{
	struct can_plan_yaml *y = NULL;
	int rc = mtb_yaml_load_data(data, len, &SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	rc = validate(y, data, origin, out, eb);
	mtb_yaml_free(&SCHEMA, y);
	return rc;
}

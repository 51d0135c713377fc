/* Simulator configuration (configs/sim/NAME.yaml) and the reference certificate's error curve
 * (configs/references/NAME.yaml, read by calibration/reference.h). Format: docs/sim.md. Numbers are YAML strings converted by
 * mtb_yaml_number (core/yaml_load.h) so that junk such as "2.5x" is refused. */
#include "sim/sim.h"

#include "calibration/reference.h"
#include "core/config.h"
#include "core/yaml_load.h"
#include "sim/dial_render.h"
#include "sim/sim_priv.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- defaults -------------------------------------------------------------------------------- */

void mtb_sim_config_defaults(struct mtb_sim_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->name, sizeof cfg->name, "sim");
	cfg->seed = 1;
	struct mtb_sim_plant_params *p = &cfg->plant;
	p->pump_nominal_hz = 50;
	p->pump_max_hz = 60;
	p->pump_shutoff_head_kpa = 700;
	p->pump_max_flow_lph = 6500;
	p->pump_ramp_hz_per_s = 10;
	p->inlet_kvs_m3h = 10;
	p->inlet_travel_s = 3;
	p->cv_kvs_m3h = 4;
	p->cv_rangeability = 50;
	p->cv_rate_pct_per_s = 25;
	p->line_loss_kpa = 270;
	p->line_loss_flow_lph = 2500;
	p->flow_tau_s = 1.5;
	p->atmospheric_kpa = 101.325;
	p->static_head_kpa = 30;
	p->water_temp_c = 20;
	p->water_temp_drift_c_per_h = 0;
	p->temp_drop_c = 0.05;
	p->temp_noise_c = 0.02;
	p->pressure_noise_kpa = 0.3;
	p->ref_flow_noise_pct = 0.2;
	p->air_volume_ml = 150;
	p->air_purge_flow_lph = 1500;
	p->air_purge_tau_s = 2;
	p->air_under_register_pct = 6;
	p->air_erratic_pct = 3;
	cfg->camera.width = 640;
	cfg->camera.height = 480;
	cfg->camera.fps = 5;
	cfg->camera.jpeg_quality = 85;
	cfg->camera.nuisance = 0.15;
	struct mtb_sim_can_config *c = &cfg->can;
	c->water_c = 21.5;
	c->air_c = 22;
	c->p_hpa = 1010;
	c->rh_pct = 50;
	c->fill_s = 200;
	c->settle_s = 3;
	c->nuisance = 0.5;
}

/* ---- schema ---------------------------------------------------------------------------------- */

/* Plant parameters: a flat mapping whose keys are the members of struct mtb_sim_plant_params. */
#define PLANT_KEYS(X) \
	X(pump_nominal_hz) X(pump_max_hz) X(pump_shutoff_head_kpa) X(pump_max_flow_lph) \
	X(pump_ramp_hz_per_s) X(inlet_kvs_m3h) X(inlet_travel_s) X(cv_kvs_m3h) X(cv_rangeability) \
	X(cv_rate_pct_per_s) X(line_loss_kpa) X(line_loss_flow_lph) X(flow_tau_s) X(atmospheric_kpa) \
	X(static_head_kpa) X(water_temp_c) X(water_temp_drift_c_per_h) X(temp_drop_c) X(temp_noise_c) \
	X(pressure_noise_kpa) X(ref_flow_noise_pct) X(air_volume_ml) X(air_purge_flow_lph) \
	X(air_purge_tau_s) X(air_under_register_pct) X(air_erratic_pct)

struct plant_yaml {
#define X(k) char *k;
	PLANT_KEYS(X)
#undef X
};

struct reference_yaml {
	char *certificate;
	char *deviation_of_u;
};

struct camera_yaml {
	char *width, *height, *fps, *jpeg_quality, *nuisance;
};

/* The can: the keys are the members of struct mtb_sim_can_config (vessel by name). */
#define CAN_KEYS(X) X(error_ml) X(water_c) X(air_c) X(p_hpa) X(rh_pct) X(fill_s) X(settle_s) X(capacity_kg) X(nuisance) X(camera_elevation_deg)

struct can_yaml {
	char *vessel;
	char *balance_protocol;
#define X(k) char *k;
	CAN_KEYS(X)
#undef X
};

struct fault_yaml {
	char *kind, *unit, *position, *code, *delay_ms, *at_s, *duration_s, *count;
};

struct meter_yaml {
	char *serial;
	char *type;
	char *(*true_error)[2];
	unsigned true_error_count;
	char *start_volume_l;
	char *face;
};

struct sim_yaml {
	char *name;
	char *seed;
	char *description;
	struct reference_yaml *reference;
	struct plant_yaml *plant;
	struct camera_yaml *cameras;
	struct fault_yaml *faults;
	unsigned faults_count;
	struct meter_yaml *meters;
	unsigned meters_count;
	struct can_yaml *can;
};

#define OPT_STR(key, st, member) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, st, member, 1, 255)
#define REQ_STR(key, st, member) CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER, st, member, 1, 255)

static const cyaml_schema_value_t NUMBER_SCHEMA = { CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 64) };
static const cyaml_schema_value_t PAIR_SCHEMA = {
	CYAML_VALUE_SEQUENCE_FIXED(CYAML_FLAG_DEFAULT, char *, &NUMBER_SCHEMA, 2),
};

static const cyaml_schema_field_t PLANT_FIELDS[] = {
#define X(k) OPT_STR(#k, struct plant_yaml, k),
	PLANT_KEYS(X)
#undef X
	CYAML_FIELD_END
};

static const cyaml_schema_field_t REFERENCE_FIELDS[] = {
	REQ_STR("certificate", struct reference_yaml, certificate),
	OPT_STR("deviation_of_u", struct reference_yaml, deviation_of_u),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t CAMERA_FIELDS[] = {
	OPT_STR("width", struct camera_yaml, width),
	OPT_STR("height", struct camera_yaml, height),
	OPT_STR("fps", struct camera_yaml, fps),
	OPT_STR("jpeg_quality", struct camera_yaml, jpeg_quality),
	OPT_STR("nuisance", struct camera_yaml, nuisance),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t CAN_FIELDS[] = {
	REQ_STR("vessel", struct can_yaml, vessel),
	OPT_STR("balance_protocol", struct can_yaml, balance_protocol),
#define X(k) OPT_STR(#k, struct can_yaml, k),
	CAN_KEYS(X)
#undef X
	CYAML_FIELD_END
};

static const cyaml_schema_field_t FAULT_FIELDS[] = {
	REQ_STR("kind", struct fault_yaml, kind),
	OPT_STR("unit", struct fault_yaml, unit),
	OPT_STR("position", struct fault_yaml, position),
	OPT_STR("code", struct fault_yaml, code),
	OPT_STR("delay_ms", struct fault_yaml, delay_ms),
	OPT_STR("at_s", struct fault_yaml, at_s),
	OPT_STR("duration_s", struct fault_yaml, duration_s),
	OPT_STR("count", struct fault_yaml, count),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t FAULT_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct fault_yaml, FAULT_FIELDS),
};

static const cyaml_schema_field_t METER_FIELDS[] = {
	REQ_STR("serial", struct meter_yaml, serial),
	REQ_STR("type", struct meter_yaml, type),
	CYAML_FIELD_SEQUENCE("true_error", CYAML_FLAG_POINTER, struct meter_yaml, true_error, &PAIR_SCHEMA,
			     1, MTB_SIM_MAX_CURVE),
	OPT_STR("start_volume_l", struct meter_yaml, start_volume_l),
	OPT_STR("face", struct meter_yaml, face),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t METER_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct meter_yaml, METER_FIELDS),
};

static const cyaml_schema_field_t SIM_FIELDS[] = {
	OPT_STR("name", struct sim_yaml, name),
	OPT_STR("seed", struct sim_yaml, seed),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct sim_yaml,
			       description, 0, CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("reference", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct sim_yaml,
				reference, REFERENCE_FIELDS),
	CYAML_FIELD_MAPPING_PTR("plant", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct sim_yaml, plant,
				PLANT_FIELDS),
	CYAML_FIELD_MAPPING_PTR("cameras", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct sim_yaml,
				cameras, CAMERA_FIELDS),
	CYAML_FIELD_SEQUENCE("faults", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct sim_yaml, faults,
			     &FAULT_SCHEMA, 0, MTB_SIM_MAX_FAULTS),
	CYAML_FIELD_SEQUENCE("meters", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct sim_yaml, meters,
			     &METER_SCHEMA, 0, MTB_SIM_MAX_METERS),
	CYAML_FIELD_MAPPING_PTR("can", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct sim_yaml, can, CAN_FIELDS),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t SIM_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct sim_yaml, SIM_FIELDS),
};

/* ---- validation ------------------------------------------------------------------------------ */

static int field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *field,
		     const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	/* the key's last component is what appears at the start of its line */
	const char *key = strrchr(field, '.');
	key = key ? key + 1 : field;
	char bare[64];
	snprintf(bare, sizeof bare, "%s", key);
	char *br = strchr(bare, '[');
	if (br)
		*br = '\0';
	int line = mtb_yaml_key_line(data, bare);
	if (line > 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: line %d: field '%s': %s", origin, line, field, why);
	return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: field '%s': %s", origin, field, why);
}

#define FERR(field, ...) field_err(eb, data, origin, field, __VA_ARGS__)

static int number(const char *data, const char *origin, struct mtb_errbuf *eb, const char *field,
		  const char *text, double min, double max, double *out)
{
	double v;
	if (mtb_yaml_number(text, &v) != MTB_OK)
		return FERR(field, "not a number: '%s'", text);
	if (!(v >= min && v <= max))
		return FERR(field, "must be within %g-%g, got %s", min, max, text);
	*out = v;
	return MTB_OK;
}

static int integer(const char *data, const char *origin, struct mtb_errbuf *eb, const char *field,
		   const char *text, long min, long max, long *out)
{
	long v;
	if (mtb_yaml_integer(text, &v) != MTB_OK)
		return FERR(field, "not an integer: '%s'", text);
	if (v < min || v > max)
		return FERR(field, "must be within %ld-%ld, got %s", min, max, text);
	*out = v;
	return MTB_OK;
}

#define TRY(x) \
	do { \
		int rc_ = (x); \
		if (rc_ != MTB_OK) \
			return rc_; \
	} while (0)

static int copy_name(const char *data, const char *origin, struct mtb_errbuf *eb, const char *field,
		     const char *text, char *dst, size_t cap)
{
	if (strlen(text) >= cap)
		return FERR(field, "longer than %zu characters", cap - 1);
	snprintf(dst, cap, "%s", text);
	return MTB_OK;
}

/* Curve points strictly increasing in flow, flows > 0, errors within +-100 %. */
static int curve_check(const char *data, const char *origin, struct mtb_errbuf *eb, const char *field,
		       const struct mtb_sim_curve *c)
{
	for (int i = 0; i < c->n; i++) {
		if (!(c->pt[i].flow_lph > 0))
			return FERR(field, "point %d: flow must be > 0 L/h", i + 1);
		if (!(fabs(c->pt[i].error_pct) < 100))
			return FERR(field, "point %d: error must be within +-100 %%", i + 1);
		if (i > 0 && !(c->pt[i].flow_lph > c->pt[i - 1].flow_lph))
			return FERR(field, "point %d: flows must increase strictly", i + 1);
	}
	return MTB_OK;
}

static int fault_validate(const char *data, const char *origin, struct mtb_errbuf *eb, int idx,
			  const struct fault_yaml *y, struct mtb_sim_fault *f)
{
	char field[64];
	memset(f, 0, sizeof *f);
	f->unit = -1;
	f->count = -1;
	snprintf(field, sizeof field, "faults[%d].kind", idx);
	if (mtb_sim_fault_kind_parse(y->kind, &f->kind) != MTB_OK)
		return FERR(field, "unknown fault '%s' (no-reply, late-reply, exception, bad-crc, disconnect, "
				   "stuck-valve, pump-trip, camera-dropout, balance-silent, balance-unstable)", y->kind);
	long v;
	double d;
	if (y->unit) {
		snprintf(field, sizeof field, "faults[%d].unit", idx);
		TRY(integer(data, origin, eb, field, y->unit, 0, 247, &v));
		f->unit = (int)v;
	}
	if (f->kind == MTB_SIM_FAULT_STUCK_VALVE && f->unit != 2 && f->unit != 3) {
		snprintf(field, sizeof field, "faults[%d].unit", idx);
		return FERR(field, "stuck-valve needs unit 2 (inlet valve) or 3 (control valve)");
	}
	if (y->position) {
		snprintf(field, sizeof field, "faults[%d].position", idx);
		TRY(integer(data, origin, eb, field, y->position, 0, MTB_SIM_MAX_METERS, &v));
		f->position = (int)v;
	}
	f->code = 4;   /* server device failure */
	if (y->code) {
		snprintf(field, sizeof field, "faults[%d].code", idx);
		TRY(integer(data, origin, eb, field, y->code, 1, 11, &v));
		f->code = (int)v;
	}
	f->delay_ms = 1000;
	if (y->delay_ms) {
		snprintf(field, sizeof field, "faults[%d].delay_ms", idx);
		TRY(integer(data, origin, eb, field, y->delay_ms, 0, 60000, &v));
		f->delay_ms = (int)v;
	}
	if (y->at_s) {
		snprintf(field, sizeof field, "faults[%d].at_s", idx);
		TRY(number(data, origin, eb, field, y->at_s, 0, 1e7, &d));
		f->at_us = llround(d * 1e6);
	}
	if (y->duration_s) {
		snprintf(field, sizeof field, "faults[%d].duration_s", idx);
		TRY(number(data, origin, eb, field, y->duration_s, 0, 1e7, &d));
		f->duration_us = llround(d * 1e6);
	}
	if (y->count) {
		snprintf(field, sizeof field, "faults[%d].count", idx);
		TRY(integer(data, origin, eb, field, y->count, 1, 1000000000, &v));
		f->count = (int)v;
	}
	return MTB_OK;
}

static int validate(const struct sim_yaml *y, const char *data, const char *origin,
		    struct mtb_sim_config *c, struct mtb_errbuf *eb)
{
	mtb_sim_config_defaults(c);
	if (y->name)
		TRY(copy_name(data, origin, eb, "name", y->name, c->name, sizeof c->name));
	if (y->seed) {
		long v;
		TRY(integer(data, origin, eb, "seed", y->seed, 0, 2147483647L, &v));
		c->seed = (uint64_t)v;
	}
	if (y->reference) {
		TRY(copy_name(data, origin, eb, "reference.certificate", y->reference->certificate,
			      c->reference_certificate, sizeof c->reference_certificate));
		if (y->reference->deviation_of_u) {
			TRY(number(data, origin, eb, "reference.deviation_of_u", y->reference->deviation_of_u,
				   -0.5, 0.5, &c->reference_deviation));
			c->has_reference_deviation = true;
		}
	}
	if (y->plant) {
		/* Physical bounds wide enough for any bench, narrow enough to keep the model sane. */
#define X(k) \
		if (y->plant->k) \
			TRY(number(data, origin, eb, "plant." #k, y->plant->k, -1e9, 1e9, &c->plant.k));
		PLANT_KEYS(X)
#undef X
		const struct mtb_sim_plant_params *p = &c->plant;
		struct {
			const char *name;
			double v, min, max;
		} const bounds[] = {
			{ "plant.pump_nominal_hz", p->pump_nominal_hz, 1, 400 },
			{ "plant.pump_max_hz", p->pump_max_hz, 1, 400 },
			{ "plant.pump_shutoff_head_kpa", p->pump_shutoff_head_kpa, 1, 10000 },
			{ "plant.pump_max_flow_lph", p->pump_max_flow_lph, 1, 1e7 },
			{ "plant.pump_ramp_hz_per_s", p->pump_ramp_hz_per_s, 0.01, 1000 },
			{ "plant.inlet_kvs_m3h", p->inlet_kvs_m3h, 0.001, 1e5 },
			{ "plant.inlet_travel_s", p->inlet_travel_s, 0.01, 600 },
			{ "plant.cv_kvs_m3h", p->cv_kvs_m3h, 0.001, 1e5 },
			{ "plant.cv_rangeability", p->cv_rangeability, 1.5, 1000 },
			{ "plant.cv_rate_pct_per_s", p->cv_rate_pct_per_s, 0.01, 1000 },
			{ "plant.line_loss_kpa", p->line_loss_kpa, 0, 10000 },
			{ "plant.line_loss_flow_lph", p->line_loss_flow_lph, 0.001, 1e7 },
			{ "plant.flow_tau_s", p->flow_tau_s, 0.01, 600 },
			{ "plant.atmospheric_kpa", p->atmospheric_kpa, 50, 120 },
			{ "plant.static_head_kpa", p->static_head_kpa, 0, 2000 },
			{ "plant.water_temp_c", p->water_temp_c, 0.1, 40 },
			{ "plant.water_temp_drift_c_per_h", p->water_temp_drift_c_per_h, -10, 10 },
			{ "plant.temp_drop_c", p->temp_drop_c, -5, 5 },
			{ "plant.temp_noise_c", p->temp_noise_c, 0, 5 },
			{ "plant.pressure_noise_kpa", p->pressure_noise_kpa, 0, 100 },
			{ "plant.ref_flow_noise_pct", p->ref_flow_noise_pct, 0, 20 },
			{ "plant.air_volume_ml", p->air_volume_ml, 0, 1e5 },
			{ "plant.air_purge_flow_lph", p->air_purge_flow_lph, 0, 1e7 },
			{ "plant.air_purge_tau_s", p->air_purge_tau_s, 0.01, 3600 },
			{ "plant.air_under_register_pct", p->air_under_register_pct, 0, 50 },
			{ "plant.air_erratic_pct", p->air_erratic_pct, 0, 50 },
		};
		for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
			if (!(bounds[i].v >= bounds[i].min && bounds[i].v <= bounds[i].max))
				return FERR(bounds[i].name, "must be within %g-%g, got %g", bounds[i].min,
					    bounds[i].max, bounds[i].v);
		if (p->pump_max_hz < p->pump_nominal_hz * 0.1)
			return FERR("plant.pump_max_hz", "below a tenth of pump_nominal_hz");
	}
	if (y->cameras) {
		long v;
		if (y->cameras->width) {
			TRY(integer(data, origin, eb, "cameras.width", y->cameras->width, 64, 4096, &v));
			c->camera.width = (int)v;
		}
		if (y->cameras->height) {
			TRY(integer(data, origin, eb, "cameras.height", y->cameras->height, 64, 4096, &v));
			c->camera.height = (int)v;
		}
		if (y->cameras->fps) {
			TRY(integer(data, origin, eb, "cameras.fps", y->cameras->fps, 1, 60, &v));
			c->camera.fps = (int)v;
		}
		if (y->cameras->jpeg_quality) {
			TRY(integer(data, origin, eb, "cameras.jpeg_quality", y->cameras->jpeg_quality, 10, 100, &v));
			c->camera.jpeg_quality = (int)v;
		}
		if (y->cameras->nuisance)
			TRY(number(data, origin, eb, "cameras.nuisance", y->cameras->nuisance, 0, 1, &c->camera.nuisance));
	}
	c->n_faults = (int)y->faults_count;
	for (unsigned i = 0; i < y->faults_count; i++)
		TRY(fault_validate(data, origin, eb, (int)i, &y->faults[i], &c->faults[i]));
	if (y->meters_count == 0 && !y->can)
		return FERR("meters", "a simulated bench needs meters, a can, or both");
	if (y->can) {
		struct mtb_sim_can_config *cc = &c->can;
		c->has_can = true;
		TRY(copy_name(data, origin, eb, "can.vessel", y->can->vessel, cc->vessel_name, sizeof cc->vessel_name));
		static const struct {
			const char *field;
			size_t off;
			double min, max;
		} K[] = {
			{ "can.error_ml", offsetof(struct mtb_sim_can_config, error_ml), -1e6, 1e6 },
			{ "can.water_c", offsetof(struct mtb_sim_can_config, water_c), 5, 35 },
			{ "can.air_c", offsetof(struct mtb_sim_can_config, air_c), 5, 35 },
			{ "can.p_hpa", offsetof(struct mtb_sim_can_config, p_hpa), 800, 1100 },
			{ "can.rh_pct", offsetof(struct mtb_sim_can_config, rh_pct), 0, 100 },
			{ "can.fill_s", offsetof(struct mtb_sim_can_config, fill_s), 1, 1e5 },
			{ "can.settle_s", offsetof(struct mtb_sim_can_config, settle_s), 0, 600 },
			{ "can.capacity_kg", offsetof(struct mtb_sim_can_config, capacity_kg), 0, 1e5 },
			{ "can.nuisance", offsetof(struct mtb_sim_can_config, nuisance), 0, 1 },
			{ "can.camera_elevation_deg", offsetof(struct mtb_sim_can_config, camera_elevation_deg), -10, 10 },
		};
		const char *const text[] = { y->can->error_ml, y->can->water_c, y->can->air_c, y->can->p_hpa, y->can->rh_pct,
					     y->can->fill_s, y->can->settle_s, y->can->capacity_kg, y->can->nuisance,
					     y->can->camera_elevation_deg };
		for (size_t k = 0; k < sizeof K / sizeof K[0]; k++)
			if (text[k])
				TRY(number(data, origin, eb, K[k].field, text[k], K[k].min, K[k].max,
					   (double *)((char *)cc + K[k].off)));
		if (y->can->balance_protocol &&
		    mtb_sim_balance_protocol_parse(y->can->balance_protocol, &cc->balance_protocol) != MTB_OK)
			return FERR("can.balance_protocol", "unknown balance protocol '%s' (sics, sbi, sbi-id)",
				    y->can->balance_protocol);
	}
	c->n_meters = (int)y->meters_count;
	for (unsigned i = 0; i < y->meters_count; i++) {
		const struct meter_yaml *my = &y->meters[i];
		struct mtb_sim_meter_config *m = &c->meters[i];
		char field[64];
		snprintf(field, sizeof field, "meters[%u].serial", i);
		TRY(copy_name(data, origin, eb, field, my->serial, m->serial, sizeof m->serial));
		for (unsigned j = 0; j < i; j++)
			if (strcmp(c->meters[j].serial, m->serial) == 0)
				return FERR(field, "serial '%s' appears twice", m->serial);
		snprintf(field, sizeof field, "meters[%u].type", i);
		TRY(copy_name(data, origin, eb, field, my->type, m->type_name, sizeof m->type_name));
		snprintf(field, sizeof field, "meters[%u].true_error", i);
		m->true_error.n = (int)my->true_error_count;
		for (unsigned j = 0; j < my->true_error_count; j++) {
			TRY(number(data, origin, eb, field, my->true_error[j][0], 1e-6, 1e9, &m->true_error.pt[j].flow_lph));
			TRY(number(data, origin, eb, field, my->true_error[j][1], -99.999, 99.999, &m->true_error.pt[j].error_pct));
		}
		TRY(curve_check(data, origin, eb, field, &m->true_error));
		if (my->start_volume_l) {
			snprintf(field, sizeof field, "meters[%u].start_volume_l", i);
			/* exact decimal litres -> uL; up to 10^9 L fits a dial of 9 digits in m3 */
			double l;
			TRY(number(data, origin, eb, field, my->start_volume_l, 0, 1e9, &l));
			m->start_volume_ul = llround(l * 1e6);
			m->has_start_volume = true;
		}
		if (my->face) {
			snprintf(field, sizeof field, "meters[%u].face", i);
			TRY(copy_name(data, origin, eb, field, my->face, m->face, sizeof m->face));
			int style;
			if (mtb_dial_style_parse(m->face, &style) != MTB_OK || style < 0)
				return FERR(field, "unknown face '%s' (classic, cream, blue, grey)", m->face);
		}
	}
	return MTB_OK;
}

/* libcyaml 1.3 frees a sequence of fixed sequences with the wrong stride (a double free), so
 * those are freed here, then detached, before cyaml_free sees the rest. cyaml_mem allocates
 * with the C library's allocator. */
static void free_pairs(char **flat, unsigned entries)
{
	if (!flat)
		return;
	for (unsigned i = 0; i < entries; i++)
		free(flat[i]);
	free(flat);
}

static void sim_yaml_free(struct sim_yaml *y)
{
	if (!y)
		return;
	for (unsigned i = 0; i < y->meters_count; i++) {
		free_pairs((char **)y->meters[i].true_error, 2 * y->meters[i].true_error_count);
		y->meters[i].true_error = NULL;
		y->meters[i].true_error_count = 0;
	}
	mtb_yaml_free(&SIM_SCHEMA, y);
}

int mtb_sim_config_parse(const char *data, size_t len, const char *origin,
			 struct mtb_sim_config *out, struct mtb_errbuf *eb)
{
	struct sim_yaml *y;
	int rc = mtb_yaml_load_data(data, len, &SIM_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	rc = validate(y, data, origin, out, eb);
	sim_yaml_free(y);
	return rc;
}

/* ---- loading with resolution ------------------------------------------------------------------- */

int mtb_sim_config_load(const char *path_or_name, struct mtb_sim_config *out, struct mtb_errbuf *eb)
{
	char path[1024];
	char *buf;
	size_t len;
	int rc = mtb_config_read("sim", path_or_name, path, sizeof path, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_sim_config_parse(buf, len, path, out, eb);
	if (rc != MTB_OK) {
		free(buf);
		return rc;
	}
	for (int i = 0; i < out->n_meters && rc == MTB_OK; i++) {
		rc = mtb_meter_type_load(out->meters[i].type_name, &out->meters[i].type, eb);
		if (rc != MTB_OK) {
			int line = mtb_yaml_key_line(buf, "meters");
			mtb_errbuf_prefix(eb, rc, "%s: line %d: meters[%d].type", path, line, i);
		}
	}
	if (rc == MTB_OK && out->has_can) {
		struct mtb_sim_can_config *cc = &out->can;
		rc = mtb_vessel_load(cc->vessel_name, &cc->vessel, eb);
		if (rc != MTB_OK)
			mtb_errbuf_prefix(eb, rc, "%s: line %d: can.vessel", path, mtb_yaml_key_line(buf, "vessel"));
		else if (fabs(cc->error_ml) * 1000 > 5 * (double)cc->vessel.scale.division_ul)
			rc = mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: line %d: field 'can.error_ml': keep within 5 divisions (%.3f mL) so the level stays on the scale",
					    path, mtb_yaml_key_line(buf, "error_ml"), 5 * (double)cc->vessel.scale.division_ul / 1000);
	}
	free(buf);
	if (rc != MTB_OK || !out->reference_certificate[0])
		return rc;
	/* the certificate through the calibration library's loader, as the bench reads it */
	struct mtb_reference *ref = malloc(sizeof *ref);
	if (!ref)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	rc = mtb_reference_load(out->reference_certificate, ref, eb);
	if (rc != MTB_OK) {
		free(ref);
		return mtb_errbuf_prefix(eb, rc, "%s: reference.certificate", path);
	}
	if (ref->n_points > MTB_SIM_MAX_CURVE) {
		free(ref);
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: reference.certificate: more than %d calibration points",
				      path, MTB_SIM_MAX_CURVE);
	}
	out->reference_curve.n = ref->n_points;
	for (int i = 0; i < ref->n_points; i++) {
		out->reference_curve.pt[i].flow_lph = ref->points[i].flow_lph;
		out->reference_curve.pt[i].error_pct = ref->points[i].error * 100.0;
		out->reference_curve.pt[i].u_exp_pct = ref->points[i].u_exp * 100.0;
	}
	free(ref);
	return MTB_OK;
}

/* ---- fault names ----------------------------------------------------------------------------- */

static const char *const FAULT_NAMES[] = {
	[MTB_SIM_FAULT_NO_REPLY] = "no-reply",
	[MTB_SIM_FAULT_LATE_REPLY] = "late-reply",
	[MTB_SIM_FAULT_EXCEPTION] = "exception",
	[MTB_SIM_FAULT_BAD_CRC] = "bad-crc",
	[MTB_SIM_FAULT_DISCONNECT] = "disconnect",
	[MTB_SIM_FAULT_STUCK_VALVE] = "stuck-valve",
	[MTB_SIM_FAULT_PUMP_TRIP] = "pump-trip",
	[MTB_SIM_FAULT_CAMERA_DROPOUT] = "camera-dropout",
	[MTB_SIM_FAULT_BALANCE_SILENT] = "balance-silent",
	[MTB_SIM_FAULT_BALANCE_UNSTABLE] = "balance-unstable",
};

const char *mtb_sim_fault_kind_name(enum mtb_sim_fault_kind k)
{
	if ((unsigned)k < sizeof FAULT_NAMES / sizeof FAULT_NAMES[0])
		return FAULT_NAMES[k];
	return "?";
}

int mtb_sim_fault_kind_parse(const char *name, enum mtb_sim_fault_kind *out)
{
	for (unsigned i = 0; i < sizeof FAULT_NAMES / sizeof FAULT_NAMES[0]; i++)
		if (strcmp(name, FAULT_NAMES[i]) == 0) {
			*out = (enum mtb_sim_fault_kind)i;
			return MTB_OK;
		}
	return MTB_ERR_ARG;
}

int mtb_sim_fault_from_text(const struct mtb_sim_fault_text *t, struct mtb_sim_fault *out,
			    struct mtb_errbuf *eb)
{
	if (!t->kind)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "fault: missing field 'kind'");
	struct fault_yaml y = {
		.kind = (char *)t->kind, .unit = (char *)t->unit, .position = (char *)t->position,
		.code = (char *)t->code, .delay_ms = (char *)t->delay_ms, .at_s = (char *)t->at_s,
		.duration_s = (char *)t->duration_s, .count = (char *)t->count,
	};
	return fault_validate("", "fault", eb, 0, &y, out);
}

int mtb_sim_balance_protocol_parse(const char *name, enum mtb_sim_balance_protocol *out)
{
	static const enum mtb_sim_balance_protocol ALL[] = { MTB_SIM_BALANCE_SICS, MTB_SIM_BALANCE_SBI, MTB_SIM_BALANCE_SBI_ID };
	for (size_t i = 0; name && i < sizeof ALL / sizeof ALL[0]; i++)
		if (strcmp(name, mtb_sim_balance_protocol_name(ALL[i])) == 0) {
			*out = ALL[i];
			return MTB_OK;
		}
	return MTB_ERR_ARG;
}

const char *mtb_sim_balance_protocol_name(enum mtb_sim_balance_protocol p)
{
	switch (p) {
	case MTB_SIM_BALANCE_SICS: return "sics";
	case MTB_SIM_BALANCE_SBI: return "sbi";
	case MTB_SIM_BALANCE_SBI_ID: return "sbi-id";
	}
	return "?";
}

/* The plant of the simulated bench: hydraulics, actuators, meters, reference, transmitters, air.
 * Model and sources: docs/sim.md. Everything here is deterministic given the seed and the
 * sequence of commands and advances; noise comes from a counter-based hash, never from state
 * that reading would change. */
#include "sim/sim.h"

#include "calibration/water.h"
#include "sim/can_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_US 10000           /* internal integration step, on an absolute 10 ms grid */
#define NOISE_PERIOD_US 100000  /* transmitters update every 100 ms */

/* Noise channels (hash inputs). */
enum { CH_T_REF = 1, CH_T_OUT, CH_P_IN, CH_P_OUT, CH_REF_FLOW, CH_AIR_METER = 100, CH_REF_DEV = 1000 };

struct meter_state {
	int64_t true_ul, ind_ul;
	double true_rem, ind_rem;
};

struct mtb_sim_plant {
	struct mtb_sim_config cfg;
	int64_t t_us;
	/* actuators */
	bool pump_run;
	double pump_set_hz, pump_hz;
	bool inlet_cmd;
	double inlet_frac;    /* 0 closed .. 1 open */
	double cv_set, cv;    /* fractions 0..1 */
	/* hydraulics */
	double q_lph;         /* volumetric flow at the reference */
	double air_ml;
	double ref_dev;       /* fraction of U, in [-0.5, 0.5] */
	int64_t ref_true_ul, ref_ind_ul;
	double ref_true_rem, ref_ind_rem;
	struct meter_state m[MTB_SIM_MAX_METERS];
	struct mtb_sim_fault faults[MTB_SIM_MAX_FAULTS];
	int n_faults;
	struct mtb_sim_fault taken;
	/* derived constants */
	double k_pump, k_line;   /* kPa per (L/h)^2 */
	struct mtb_sim_can *can; /* the can beside the line, or NULL */
};

/* ---- curves --------------------------------------------------------------------------------- */

static double curve_interp(const struct mtb_sim_curve *c, double q, int which)
{
	if (c->n == 0)
		return 0.0;
#define V(i) (which ? c->pt[i].u_exp_pct : c->pt[i].error_pct)
	if (q <= c->pt[0].flow_lph)
		return V(0);
	for (int i = 1; i < c->n; i++) {
		if (q <= c->pt[i].flow_lph) {
			double f = (q - c->pt[i - 1].flow_lph) / (c->pt[i].flow_lph - c->pt[i - 1].flow_lph);
			return V(i - 1) + f * (V(i) - V(i - 1));
		}
	}
	return V(c->n - 1);
#undef V
}

double mtb_sim_curve_error_pct(const struct mtb_sim_curve *c, double flow_lph)
{
	return curve_interp(c, flow_lph, 0);
}

double mtb_sim_curve_u_pct(const struct mtb_sim_curve *c, double flow_lph)
{
	return curve_interp(c, flow_lph, 1);
}

/* ---- counter-based noise (SplitMix64 finaliser, Steele et al. 2014) --------------------------- */

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) from (seed, channel, counter). */
static double uniform(uint64_t seed, uint64_t channel, uint64_t counter)
{
	uint64_t h = mix64(seed ^ mix64(channel * 0x100000001b3ULL ^ mix64(counter)));
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal by Box-Muller over two uniforms of the same (channel, counter). */
static double gauss(uint64_t seed, uint64_t channel, uint64_t counter)
{
	double u1 = uniform(seed, channel * 2, counter), u2 = uniform(seed, channel * 2 + 1, counter);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double noise_at(const struct mtb_sim_plant *p, uint64_t channel)
{
	return gauss(p->cfg.seed, channel, (uint64_t)(p->t_us / NOISE_PERIOD_US));
}

/* ---- hydraulics ------------------------------------------------------------------------------ */

/* Valve resistance from its flow coefficient: Q[m3/h] = Kv sqrt(dp[bar]) (IEC 60534), so
 * dp[kPa] = 100 (Q[L/h] / (1000 Kv))^2 = k Q^2 with k = 1e-4 / Kv^2. */
static double k_of_kv(double kv_m3h)
{
	return 1e-4 / (kv_m3h * kv_m3h);
}

/* Equal-percentage characteristic shifted to close tightly: Kv(x) = Kvs (R^x - 1) / (R - 1),
 * x the opening 0..1 (Kvs at 1, 0 at 0, ratio R^x at the top like an ideal equal-percentage). */
static double cv_kv(const struct mtb_sim_plant_params *pp, double x)
{
	double r = pp->cv_rangeability;
	return pp->cv_kvs_m3h * (pow(r, x) - 1.0) / (r - 1.0);
}

static double pump_head_kpa(const struct mtb_sim_plant *p, double q_lph)
{
	/* Affinity laws: shut-off head scales with the square of speed; the quadratic drop with
	 * flow stays (H = H0 (n/n0)^2 - k Q^2). */
	double s = p->pump_hz / p->cfg.plant.pump_nominal_hz;
	double h = p->cfg.plant.pump_shutoff_head_kpa * s * s - p->k_pump * q_lph * q_lph;
	return h > 0 ? h : 0;
}

/* Steady-state flow for the present actuator positions: H0 s^2 = (k_pump + k_in + k_line + k_cv) Q^2. */
static double steady_flow_lph(const struct mtb_sim_plant *p)
{
	const struct mtb_sim_plant_params *pp = &p->cfg.plant;
	if (p->pump_hz <= 0 || p->inlet_frac <= 0 || p->cv <= 0)
		return 0.0;
	double kv_in = pp->inlet_kvs_m3h * p->inlet_frac;
	double kv_cv = cv_kv(pp, p->cv);
	if (kv_in <= 0 || kv_cv <= 0)
		return 0.0;
	double s = p->pump_hz / pp->pump_nominal_hz;
	double k = p->k_pump + k_of_kv(kv_in) + p->k_line + k_of_kv(kv_cv);
	return sqrt(pp->pump_shutoff_head_kpa * s * s / k);
}

/* True absolute pressures before and after the string of meters. The pump's head is shared
 * among the resistances in series in proportion to each (the same Q flows through all), which is
 * the steady split and stays sensible while the flow is still settling. */
static void pressures(const struct mtb_sim_plant *p, double *p_in, double *p_out)
{
	const struct mtb_sim_plant_params *pp = &p->cfg.plant;
	double base = pp->atmospheric_kpa + pp->static_head_kpa;
	*p_in = *p_out = base;
	if (p->inlet_frac <= 0)
		return;
	double h = pump_head_kpa(p, p->q_lph);
	double kv_cv = p->cv > 0 ? cv_kv(pp, p->cv) : 0;
	if (kv_cv <= 0) {   /* dead-headed against the closed control valve */
		*p_in = *p_out = base + h;
		return;
	}
	double k_in = k_of_kv(pp->inlet_kvs_m3h * p->inlet_frac), k_cv = k_of_kv(kv_cv);
	double k_sum = k_in + p->k_line + k_cv;
	*p_out = base + h * k_cv / k_sum;
	*p_in = *p_out + h * p->k_line / k_sum;
}

static double water_temp_c(const struct mtb_sim_plant *p)
{
	return p->cfg.plant.water_temp_c + p->cfg.plant.water_temp_drift_c_per_h * (double)p->t_us / 3.6e9;
}

/* Conditions in meter i (0-based) of n: temperature and pressure fall linearly along the string. */
static void meter_conditions(const struct mtb_sim_plant *p, int i, double p_in, double p_out,
			     double *t_c, double *p_kpa)
{
	double f = ((double)i + 0.5) / (double)p->cfg.n_meters;
	*t_c = water_temp_c(p) - p->cfg.plant.temp_drop_c * f;
	*p_kpa = p_in - (p_in - p_out) * f;
}

/* Adds d_ul to an integer microlitre total, carrying the fraction to the next step. */
static void accumulate(int64_t *ul, double *rem, double d_ul)
{
	double x = *rem + d_ul;
	double w = floor(x);
	*ul += (int64_t)w;
	*rem = x - w;
}

static bool fault_active(const struct mtb_sim_plant *p, const struct mtb_sim_fault *f)
{
	if (p->t_us < f->at_us)
		return false;
	if (f->duration_us > 0 && p->t_us >= f->at_us + f->duration_us)
		return false;
	return f->count != 0;
}

static bool plant_fault(const struct mtb_sim_plant *p, enum mtb_sim_fault_kind kind, int unit)
{
	for (int i = 0; i < p->n_faults; i++) {
		const struct mtb_sim_fault *f = &p->faults[i];
		if (f->kind == kind && (f->unit < 0 || f->unit == unit) && fault_active(p, f))
			return true;
	}
	return false;
}

static double approach(double x, double target, double max_step)
{
	if (x < target)
		return fmin(x + max_step, target);
	return fmax(x - max_step, target);
}

/* Air fraction 0..1 of the initial charge. */
static double air_fraction(const struct mtb_sim_plant *p)
{
	return p->cfg.plant.air_volume_ml > 0 ? p->air_ml / p->cfg.plant.air_volume_ml : 0.0;
}

static double reference_error_pct(const struct mtb_sim_plant *p, double q)
{
	return mtb_sim_curve_error_pct(&p->cfg.reference_curve, q) +
	       p->ref_dev * mtb_sim_curve_u_pct(&p->cfg.reference_curve, q);
}

static void step(struct mtb_sim_plant *p, int64_t dt_us)
{
	const struct mtb_sim_plant_params *pp = &p->cfg.plant;
	double dt = (double)dt_us * 1e-6;

	/* Actuators move first, at their rates. */
	bool trip = plant_fault(p, MTB_SIM_FAULT_PUMP_TRIP, 1);
	double f_target = (p->pump_run && !trip) ? p->pump_set_hz : 0.0;
	p->pump_hz = approach(p->pump_hz, f_target, pp->pump_ramp_hz_per_s * dt);
	if (!plant_fault(p, MTB_SIM_FAULT_STUCK_VALVE, 2))
		p->inlet_frac = approach(p->inlet_frac, p->inlet_cmd ? 1.0 : 0.0, dt / pp->inlet_travel_s);
	if (!plant_fault(p, MTB_SIM_FAULT_STUCK_VALVE, 3))
		p->cv = approach(p->cv, p->cv_set, pp->cv_rate_pct_per_s * 0.01 * dt);

	/* First-order flow towards the steady state, solved exactly over the step:
	 * Q(t) = Qss + (Q0 - Qss) e^(-t/tau), V = Qss dt + (Q0 - Qss) tau (1 - e^(-dt/tau)). */
	double qss = steady_flow_lph(p);
	double q0 = p->q_lph;
	double e = exp(-dt / pp->flow_tau_s);
	double v_lph_s = qss * dt + (q0 - qss) * pp->flow_tau_s * (1.0 - e);
	p->q_lph = qss + (q0 - qss) * e;
	if (qss == 0 && p->q_lph < 1e-6)   /* the line has come to rest */
		p->q_lph = 0;
	double q_mean = dt > 0 ? v_lph_s / dt : p->q_lph;
	double dv_ul = v_lph_s / 3600.0 * 1e6;   /* L/h x s -> uL */
	if (dv_ul <= 0)
		return;

	/* Air: carried out only above the purge flow, exponentially. */
	double alpha = air_fraction(p);
	if (p->air_ml > 0 && q_mean >= pp->air_purge_flow_lph) {
		p->air_ml *= exp(-dt / pp->air_purge_tau_s);
		if (p->air_ml < 0.01)
			p->air_ml = 0;
	}

	/* Reference: its certificate error plus its own seeded deviation within U. */
	accumulate(&p->ref_true_ul, &p->ref_true_rem, dv_ul);
	accumulate(&p->ref_ind_ul, &p->ref_ind_rem, dv_ul * (1.0 + reference_error_pct(p, q_mean) / 100.0));

	/* Meters: mass conservation gives each its own volume, V_i = V_ref rho_ref / rho_i. */
	double p_in, p_out;
	pressures(p, &p_in, &p_out);
	double rho_ref = mtb_water_density_tp_kgm3(water_temp_c(p), p_in);
	uint64_t air_bucket = (uint64_t)(p->t_us / NOISE_PERIOD_US);
	for (int i = 0; i < p->cfg.n_meters; i++) {
		double t_c, p_kpa;
		meter_conditions(p, i, p_in, p_out, &t_c, &p_kpa);
		double ratio = rho_ref / mtb_water_density_tp_kgm3(t_c, p_kpa);
		double dvi = dv_ul * ratio;
		double err = mtb_sim_curve_error_pct(&p->cfg.meters[i].true_error, q_mean * ratio) / 100.0;
		double under = 0;
		if (alpha > 0) {
			double u = 2.0 * uniform(p->cfg.seed, CH_AIR_METER + (uint64_t)i, air_bucket) - 1.0;
			under = alpha * (pp->air_under_register_pct + pp->air_erratic_pct * u) / 100.0;
		}
		accumulate(&p->m[i].true_ul, &p->m[i].true_rem, dvi);
		accumulate(&p->m[i].ind_ul, &p->m[i].ind_rem, dvi * (1.0 + err) * (1.0 - under));
	}
}

void mtb_sim_plant_advance(struct mtb_sim_plant *p, int64_t dt_us)
{
	int64_t end = p->t_us + (dt_us > 0 ? dt_us : 0);
	while (p->t_us < end) {
		int64_t next = (p->t_us / STEP_US + 1) * STEP_US;   /* next grid point */
		if (next > end)
			next = end;
		step(p, next - p->t_us);
		if (p->can)
			mtb_sim_can_advance(p->can, next - p->t_us);
		p->t_us = next;
	}
}

int64_t mtb_sim_plant_time_us(const struct mtb_sim_plant *p)
{
	return p->t_us;
}

/* ---- lifecycle, commands ----------------------------------------------------------------------- */

int mtb_sim_plant_create(const struct mtb_sim_config *cfg, struct mtb_sim_plant **out,
			 struct mtb_errbuf *eb)
{
	*out = NULL;
	const struct mtb_sim_plant_params *pp = &cfg->plant;
	if (!(pp->pump_nominal_hz > 0 && pp->pump_shutoff_head_kpa > 0 && pp->pump_max_flow_lph > 0 &&
	      pp->inlet_kvs_m3h > 0 && pp->inlet_travel_s > 0 && pp->cv_kvs_m3h > 0 && pp->cv_rangeability > 1 &&
	      pp->cv_rate_pct_per_s > 0 && pp->line_loss_kpa >= 0 && pp->line_loss_flow_lph > 0 &&
	      pp->flow_tau_s > 0 && pp->pump_ramp_hz_per_s > 0 && pp->air_purge_tau_s > 0))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "plant parameters out of range");
	if (cfg->n_meters < 0 || cfg->n_meters > MTB_SIM_MAX_METERS || cfg->n_faults < 0 ||
	    cfg->n_faults > MTB_SIM_MAX_FAULTS)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "too many meters or faults");
	struct mtb_sim_plant *p = calloc(1, sizeof *p);
	if (!p)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	p->cfg = *cfg;
	p->k_pump = pp->pump_shutoff_head_kpa / (pp->pump_max_flow_lph * pp->pump_max_flow_lph);
	p->k_line = pp->line_loss_kpa / (pp->line_loss_flow_lph * pp->line_loss_flow_lph);
	p->air_ml = pp->air_volume_ml;
	p->ref_dev = cfg->has_reference_deviation ? cfg->reference_deviation
						  : uniform(cfg->seed, CH_REF_DEV, 0) - 0.5;
	for (int i = 0; i < cfg->n_meters; i++) {
		const struct mtb_sim_meter_config *mc = &cfg->meters[i];
		int64_t start = mc->start_volume_ul;
		if (!mc->has_start_volume)   /* a seeded reading in whole litres below 10 m3 */
			start = (int64_t)(uniform(cfg->seed, CH_REF_DEV + 1 + (uint64_t)i, 0) * 10000.0) * 1000000;
		p->m[i].ind_ul = start;
		p->cfg.meters[i].start_volume_ul = start;
		p->cfg.meters[i].has_start_volume = true;
	}
	memcpy(p->faults, cfg->faults, sizeof p->faults);
	p->n_faults = cfg->n_faults;
	if (cfg->has_can) {
		const struct mtb_sim_can_config *cc = &cfg->can;
		struct mtb_sim_can_cfg c;
		mtb_sim_can_defaults(&c, &cc->vessel);
		c.injected_error_ul = cc->error_ml * 1000;
		c.water_c = cc->water_c;
		c.air_c = cc->air_c;
		c.p_hpa = cc->p_hpa;
		c.rh_pct = cc->rh_pct;
		if (cc->fill_s > 0)
			c.fill_ulps = (double)cc->vessel.nominal_ul / cc->fill_s;
		c.settle_s = cc->settle_s;
		c.capacity_mg = cc->capacity_kg * 1e6;
		c.nuisance = cc->nuisance;
		c.camera_elevation_deg = cc->camera_elevation_deg;
		c.seed = cfg->seed;
		int rc = mtb_sim_can_create(&p->can, &c, eb);
		if (rc != MTB_OK) {
			free(p);
			return mtb_errbuf_prefix(eb, rc, "can");
		}
	}
	*out = p;
	return MTB_OK;
}

void mtb_sim_plant_destroy(struct mtb_sim_plant *p)
{
	if (p)
		mtb_sim_can_destroy(p->can);
	free(p);
}

struct mtb_sim_can *mtb_sim_plant_can(const struct mtb_sim_plant *p)
{
	return p->can;
}

bool mtb_sim_plant_fault_on(const struct mtb_sim_plant *p, enum mtb_sim_fault_kind kind)
{
	for (int i = 0; i < p->n_faults; i++)
		if (p->faults[i].kind == kind && fault_active(p, &p->faults[i]))
			return true;
	return false;
}

void mtb_sim_plant_set_pump_run(struct mtb_sim_plant *p, bool run)
{
	p->pump_run = run;
}

int mtb_sim_plant_set_pump_hz(struct mtb_sim_plant *p, double hz)
{
	if (!(hz >= 0 && hz <= p->cfg.plant.pump_max_hz))
		return MTB_ERR_RANGE;
	p->pump_set_hz = hz;
	return MTB_OK;
}

void mtb_sim_plant_set_inlet_open(struct mtb_sim_plant *p, bool open)
{
	p->inlet_cmd = open;
}

int mtb_sim_plant_set_cv_pct(struct mtb_sim_plant *p, double pct)
{
	if (!(pct >= 0 && pct <= 100))
		return MTB_ERR_RANGE;
	p->cv_set = pct / 100.0;
	return MTB_OK;
}

int mtb_sim_plant_fault_add(struct mtb_sim_plant *p, const struct mtb_sim_fault *f)
{
	if (p->n_faults >= MTB_SIM_MAX_FAULTS)
		return MTB_ERR_RANGE;
	p->faults[p->n_faults++] = *f;
	return MTB_OK;
}

void mtb_sim_plant_faults_clear(struct mtb_sim_plant *p)
{
	p->n_faults = 0;
}

static bool is_wire_fault(enum mtb_sim_fault_kind k)
{
	return k == MTB_SIM_FAULT_NO_REPLY || k == MTB_SIM_FAULT_LATE_REPLY || k == MTB_SIM_FAULT_EXCEPTION ||
	       k == MTB_SIM_FAULT_BAD_CRC || k == MTB_SIM_FAULT_DISCONNECT;
}

const struct mtb_sim_fault *mtb_sim_plant_wire_fault_take(struct mtb_sim_plant *p, int unit)
{
	for (int i = 0; i < p->n_faults; i++) {
		struct mtb_sim_fault *f = &p->faults[i];
		if (is_wire_fault(f->kind) && (f->unit < 0 || f->unit == unit) && fault_active(p, f)) {
			if (f->count > 0)
				f->count--;
			p->taken = *f;
			return &p->taken;
		}
	}
	return NULL;
}

bool mtb_sim_plant_camera_dropout(const struct mtb_sim_plant *p, int position)
{
	for (int i = 0; i < p->n_faults; i++) {
		const struct mtb_sim_fault *f = &p->faults[i];
		if (f->kind == MTB_SIM_FAULT_CAMERA_DROPOUT && (f->position == 0 || f->position == position) &&
		    fault_active(p, f))
			return true;
	}
	return false;
}

/* ---- readings and truth ------------------------------------------------------------------------ */

void mtb_sim_plant_read(const struct mtb_sim_plant *p, struct mtb_sim_readings *r)
{
	const struct mtb_sim_plant_params *pp = &p->cfg.plant;
	memset(r, 0, sizeof *r);
	r->t_us = p->t_us;
	r->pump_run = p->pump_run;
	r->pump_set_hz = p->pump_set_hz;
	r->pump_hz = p->pump_hz;
	r->pump_fault = plant_fault(p, MTB_SIM_FAULT_PUMP_TRIP, 1);
	r->inlet_open_cmd = p->inlet_cmd;
	r->inlet_is_open = p->inlet_frac >= 1.0;
	r->inlet_is_closed = p->inlet_frac <= 0.0;
	r->cv_set_pct = p->cv_set * 100.0;
	r->cv_pct = p->cv * 100.0;
	double q = p->q_lph;
	if (q > 0) {
		/* Air bubbles through an electromagnetic meter make its output erratic. */
		double sd = pp->ref_flow_noise_pct + air_fraction(p) * pp->air_erratic_pct;
		q *= (1.0 + reference_error_pct(p, q) / 100.0) * (1.0 + sd / 100.0 * noise_at(p, CH_REF_FLOW));
		if (q < 0)
			q = 0;
	}
	r->ref_flow_lph = q;
	r->ref_total_ul = p->ref_ind_ul;
	double p_in, p_out;
	pressures(p, &p_in, &p_out);
	r->p_inlet_kpa = p_in + pp->pressure_noise_kpa * noise_at(p, CH_P_IN);
	r->p_outlet_kpa = p_out + pp->pressure_noise_kpa * noise_at(p, CH_P_OUT);
	r->t_ref_c = water_temp_c(p) + pp->temp_noise_c * noise_at(p, CH_T_REF);
	r->t_outlet_c = water_temp_c(p) - pp->temp_drop_c + pp->temp_noise_c * noise_at(p, CH_T_OUT);
}

void mtb_sim_plant_truth(const struct mtb_sim_plant *p, struct mtb_sim_truth *out)
{
	memset(out, 0, sizeof *out);
	out->t_us = p->t_us;
	out->flow_lph = p->q_lph;
	out->air_ml = p->air_ml;
	out->ref_true_ul = p->ref_true_ul;
	out->ref_indicated_ul = p->ref_ind_ul;
	out->ref_error_pct = reference_error_pct(p, p->q_lph);
	out->n_meters = p->cfg.n_meters;
	double p_in, p_out;
	pressures(p, &p_in, &p_out);
	double rho_ref = mtb_water_density_tp_kgm3(water_temp_c(p), p_in);
	for (int i = 0; i < p->cfg.n_meters; i++) {
		struct mtb_sim_truth_meter *m = &out->meters[i];
		snprintf(m->serial, sizeof m->serial, "%s", p->cfg.meters[i].serial);
		m->true_ul = p->m[i].true_ul;
		m->indicated_ul = p->m[i].ind_ul;
		m->start_ul = p->cfg.meters[i].start_volume_ul;
		double t_c, p_kpa;
		meter_conditions(p, i, p_in, p_out, &t_c, &p_kpa);
		m->flow_lph = p->q_lph * rho_ref / mtb_water_density_tp_kgm3(t_c, p_kpa);
		m->true_error_pct = mtb_sim_curve_error_pct(&p->cfg.meters[i].true_error, m->flow_lph);
	}
}

int64_t mtb_sim_plant_indicated_ul(const struct mtb_sim_plant *p, int position)
{
	if (position < 1 || position > p->cfg.n_meters)
		return 0;
	return p->m[position - 1].ind_ul;
}

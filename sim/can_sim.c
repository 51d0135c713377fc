/* The simulated can (sim/can_sim.h). */
#include "sim/can_sim.h"

#include "calibration/gravimetric.h"
#include "calibration/water.h"
#include "sim/neck_render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mtb_sim_can {
	struct mtb_sim_can_cfg c;
	double t_us;
	double water_ul;
	bool fill, drain;
	uint64_t frame;
	double still_since_us;   /* when the water last moved (fill, main outflow) */
};

void mtb_sim_can_defaults(struct mtb_sim_can_cfg *c, const struct mtb_vessel *v)
{
	memset(c, 0, sizeof *c);
	c->vessel = *v;
	double nominal = (double)v->nominal_ul;
	c->water_c = 21.5;
	c->air_c = 22;
	c->p_hpa = 1010;
	c->rh_pct = 50;
	c->tare_mg = 0.15 * nominal;             /* 3 kg for 20 L */
	c->fill_ulps = nominal / 200;             /* the nominal volume in 200 s */
	c->film_ul = 4e-4 * nominal;
	c->film_final_ul = 2.5e-4 * nominal;
	c->balance_step_mg = nominal >= 1e6 ? 100 : nominal >= 1e5 ? 10 : 1;
	c->nuisance = 0.5;
	c->seed = 1;
}

int mtb_sim_can_create(struct mtb_sim_can **out, const struct mtb_sim_can_cfg *cfg, struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!(cfg->fill_ulps > 0) || cfg->balance_step_mg < 1 || !(cfg->settle_s >= 0) || !(cfg->capacity_mg >= 0) || !(cfg->film_ul >= cfg->film_final_ul) || cfg->film_final_ul < 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "simulated can: fill flow, balance step and films must be positive");
	struct mtb_sim_can *s = calloc(1, sizeof *s);
	if (!s)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "simulated can: out of memory");
	s->c = *cfg;
	if (!(s->c.capacity_mg > 0))
		s->c.capacity_mg = cfg->tare_mg + 1.5 * (double)cfg->vessel.nominal_ul * 1e-3 * 998.2;
	s->still_since_us = -1e12;
	*out = s;
	return MTB_OK;
}

void mtb_sim_can_destroy(struct mtb_sim_can *s) { free(s); }

int64_t mtb_sim_can_now_us(const struct mtb_sim_can *s) { return (int64_t)s->t_us; }

void mtb_sim_can_advance(struct mtb_sim_can *s, int64_t dt_us)
{
	double dt_s = dt_us / 1e6;
	while (dt_s > 0) {
		double h = fmin(dt_s, 0.01);
		if (s->fill)
			s->water_ul += s->c.fill_ulps * h;
		if (s->drain) {
			if (s->water_ul > s->c.film_ul)
				s->water_ul = fmax(s->c.film_ul, s->water_ul - 2 * s->c.fill_ulps * h);
			else if (s->water_ul > s->c.film_final_ul)   /* a drain opened on a drier vessel adds nothing */
				s->water_ul = s->c.film_final_ul + (s->water_ul - s->c.film_final_ul) * exp(-h / 3.0);
		}
		s->t_us += h * 1e6;
		if (s->fill || (s->drain && s->water_ul > s->c.film_final_ul + 0.01 * s->c.film_final_ul + 1))
			s->still_since_us = s->t_us;
		dt_s -= h;
	}
}

void mtb_sim_can_set_fill(struct mtb_sim_can *s, bool open) { s->fill = open; }
void mtb_sim_can_set_drain(struct mtb_sim_can *s, bool open) { s->drain = open; }
bool mtb_sim_can_valves_closed(const struct mtb_sim_can *s) { return !s->fill && !s->drain; }
bool mtb_sim_can_fill_open(const struct mtb_sim_can *s) { return s->fill; }
bool mtb_sim_can_drain_open(const struct mtb_sim_can *s) { return s->drain; }
const struct mtb_sim_can_cfg *mtb_sim_can_config(const struct mtb_sim_can *s) { return &s->c; }
double mtb_sim_can_water_ul(const struct mtb_sim_can *s) { return s->water_ul; }

/* Conventional mass (OIML D 28: weights of 8000 kg/m3 in air of 1.2 kg/m3) of the water: the
 * balance, adjusted with such weights, shows m (1 - rho_a/rho_w) / (1 - rho_a/8000). While it
 * settles after the water stops, the indication swings about the true value with an amplitude
 * of 20 steps decaying with a time constant of settle_s / 4, period 0.8 s. */
void mtb_sim_can_balance_raw(const struct mtb_sim_can *s, double *gross_mg, bool *stable, double *capacity_mg)
{
	double rho_w = mtb_water_density_kgm3(s->c.water_c);
	double rho_a = mtb_air_density_cipm2007_kgm3(s->c.air_c, s->c.p_hpa * 100, s->c.rh_pct, MTB_AIR_XCO2_DEFAULT);
	double m_mg = s->water_ul * 1e-3 * rho_w;
	double ind = s->c.tare_mg + m_mg * (1 - rho_a / rho_w) / (1 - rho_a / MTB_RHO_WEIGHTS_CONV_KGM3);
	double since_s = (s->t_us - s->still_since_us) / 1e6;
	bool moving = s->fill || (s->drain && s->water_ul > s->c.film_final_ul + 0.01 * s->c.film_final_ul + 1);
	bool settling = !moving && since_s < s->c.settle_s;
	if (settling)
		ind += 20.0 * (double)s->c.balance_step_mg * exp(-since_s / (s->c.settle_s / 4)) * sin(2 * M_PI * since_s / 0.8);
	*gross_mg = ind;
	*stable = !moving && !settling;
	if (capacity_mg)
		*capacity_mg = s->c.capacity_mg;
}

int64_t mtb_sim_can_balance_step_mg(const struct mtb_sim_can *s) { return s->c.balance_step_mg; }

void mtb_sim_can_balance(const struct mtb_sim_can *s, int64_t *mass_mg, bool *stable)
{
	double ind;
	mtb_sim_can_balance_raw(s, &ind, stable, NULL);
	*mass_mg = llround(ind / (double)s->c.balance_step_mg) * s->c.balance_step_mg;
}

double mtb_sim_can_level_div(const struct mtb_sim_can *s)
{
	const struct mtb_vessel *v = &s->c.vessel;
	double held = v->delivery == MTB_VESSEL_TO_DELIVER ? s->water_ul - s->c.film_final_ul : s->water_ul;
	double at_ref = held / (1 + v->gamma_per_k * (s->c.water_c - v->ref_temp_c));
	return (at_ref + s->c.injected_error_ul - (double)v->scale.zero_ul) / (double)v->scale.division_ul;
}

int mtb_sim_can_render(struct mtb_sim_can *s, struct mtb_image **out, struct mtb_errbuf *eb)
{
	double level = mtb_sim_can_level_div(s);
	const struct mtb_vessel *v = &s->c.vessel;
	if (!(level >= 0 && level <= v->scale.divisions)) {
		*out = NULL;
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "the water stands off the scale (%.1f divisions)", level);
	}
	struct mtb_neck_render_opts o = { 0 };
	o.seed = s->c.seed * 0x9e3779b97f4a7c15ull + ++s->frame;
	o.nuisance = s->c.nuisance;
	o.parallax_deg = s->c.camera_elevation_deg;
	o.liquid = MTB_LIQUID_WATER;
	return mtb_neck_render(v, level, &o, out, NULL, eb);
}

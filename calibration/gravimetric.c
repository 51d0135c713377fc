#include "calibration/gravimetric.h"

#include "calibration/water.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* CIPM-2007 (Picard et al., Metrologia 45 (2008) 149): rho_a = p Ma / (Z R T) [1 - xv (1 - Mv/Ma)]. */
double mtb_air_density_cipm2007_kgm3(double t_c, double p_pa, double rh_pct, double x_co2)
{
	const double R = 8.314472;                                 /* J/(mol K), as in CIPM-2007 */
	const double Mv = 18.01528e-3;                             /* kg/mol, water */
	const double Ma = (28.96546 + 12.011 * (x_co2 - 0.0004)) * 1e-3; /* kg/mol, dry air with x_co2 */
	double T = t_c + 273.15;
	/* saturation vapour pressure, Pa */
	double psv = exp(1.2378847e-5 * T * T - 1.9121316e-2 * T + 33.93711047 - 6.3431645e3 / T);
	/* enhancement factor */
	double f = 1.00062 + 3.14e-8 * p_pa + 5.6e-7 * t_c * t_c;
	double xv = rh_pct / 100.0 * f * psv / p_pa;
	/* compressibility factor */
	double Z = 1 - p_pa / T * (1.58123e-6 - 2.9331e-8 * t_c + 1.1043e-10 * t_c * t_c + (5.707e-6 - 2.051e-8 * t_c) * xv +
				   (1.9898e-4 - 2.376e-6 * t_c) * xv * xv) +
		   p_pa * p_pa / (T * T) * (1.83e-11 - 0.765e-8 * xv * xv);
	return p_pa * Ma / (Z * R * T) * (1 - xv * (1 - Mv / Ma));
}

double mtb_air_density_simple_kgm3(double t_c, double p_hpa, double rh_pct)
{
	return (0.34848 * p_hpa - 0.009 * rh_pct * exp(0.061 * t_c)) / (273.15 + t_c);
}

/* ISO 4787: V = (I_L - I_E) / (rho_W - rho_A) x (1 - rho_A/rho_B) x [1 - gamma (t - t_ref)].
 * Masses in mg = 1e-6 kg, densities in kg/m3, so (mg)/(kg/m3) = 1e-6 m3 = 1e3 uL. */
double mtb_grav_volume_ul(const struct mtb_grav_in *in)
{
	double net_mg = (double)(in->full_mg - in->empty_mg);
	return net_mg * 1e3 / (in->rho_water_kgm3 - in->rho_air_kgm3) * (1.0 - in->rho_air_kgm3 / in->rho_weights_kgm3) *
	       (1.0 - in->gamma_per_k * (in->water_temp_c - in->ref_temp_c));
}

/* Every input of one run as doubles, so that sensitivities can be taken by perturbing them. */
struct model_x {
	double net_mg;
	double water_temp_c;
	double rho_water_offset;   /* added to Tanaka's rho_W: the density's own uncertainty */
	double air_temp_c, p_hpa, rh_pct;
	double air_rel;            /* relative offset of the air-density formula */
	double rho_weights;
	double gamma;
	double level_div;
	double drain_ul;           /* film left by draining, added to what the vessel delivers */
};

static double water_density(double t_c, bool air_saturated)
{
	return air_saturated ? mtb_water_density_air_saturated_kgm3(t_c) : mtb_water_density_kgm3(t_c);
}

static double model_v_ref(const struct mtb_vessel *v, const struct model_x *x, bool air_saturated)
{
	struct mtb_grav_in g = {
		.full_mg = 0, .empty_mg = 0,
		.water_temp_c = x->water_temp_c,
		.rho_water_kgm3 = water_density(x->water_temp_c, air_saturated) + x->rho_water_offset,
		.rho_air_kgm3 = mtb_air_density_cipm2007_kgm3(x->air_temp_c, x->p_hpa * 100.0, x->rh_pct, MTB_AIR_XCO2_DEFAULT) *
				(1.0 + x->air_rel),
		.rho_weights_kgm3 = x->rho_weights,
		.gamma_per_k = x->gamma,
		.ref_temp_c = v->ref_temp_c,
	};
	/* net mass as a double: the formula is linear in it */
	double unit = mtb_grav_volume_ul(&(struct mtb_grav_in){ .full_mg = 1000000, .empty_mg = 0,
							       .water_temp_c = g.water_temp_c,
							       .rho_water_kgm3 = g.rho_water_kgm3,
							       .rho_air_kgm3 = g.rho_air_kgm3,
							       .rho_weights_kgm3 = g.rho_weights_kgm3,
							       .gamma_per_k = g.gamma_per_k,
							       .ref_temp_c = g.ref_temp_c });
	return unit * x->net_mg / 1e6 + x->drain_ul;
}

/* The error E = V_scale(level) - V_ref as a function of every input. */
static double model_error(const struct mtb_vessel *v, const struct model_x *x, bool air_saturated)
{
	double v_scale = (double)v->scale.zero_ul + x->level_div * (double)v->scale.division_ul;
	return v_scale - model_v_ref(v, x, air_saturated);
}

static int check_run(const struct mtb_can_run *r, int i, struct mtb_errbuf *eb)
{
	if (!(r->full_mg > r->empty_mg))
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "run %d: the full reading %lld mg is not above the empty %lld mg", i + 1,
				      (long long)r->full_mg, (long long)r->empty_mg);
	if (!(r->water_temp_c >= 0 && r->water_temp_c <= 40))
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "run %d: water at %g C is outside 0-40 C (Tanaka)", i + 1, r->water_temp_c);
	if (!(r->air_temp_c >= 0 && r->air_temp_c <= 40) || !(r->p_hpa >= 600 && r->p_hpa <= 1100) ||
	    !(r->rh_pct >= 0 && r->rh_pct <= 100))
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "run %d: air %g C, %g hPa, %g %% is outside 0-40 C, 600-1100 hPa, 0-100 %%",
				      i + 1, r->air_temp_c, r->p_hpa, r->rh_pct);
	if (!isfinite(r->level_div) || r->level_div < -1 || r->level_div > 100000)
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "run %d: level %g divisions is not on the scale", i + 1, r->level_div);
	return MTB_OK;
}

static struct model_x run_x(const struct mtb_vessel *v, const struct mtb_can_run *r, const struct mtb_can_u_in *u)
{
	return (struct model_x){
		.net_mg = (double)(r->full_mg - r->empty_mg),
		.water_temp_c = r->water_temp_c,
		.air_temp_c = r->air_temp_c, .p_hpa = r->p_hpa, .rh_pct = r->rh_pct,
		.rho_weights = u->rho_weights_kgm3 > 0 ? u->rho_weights_kgm3 : MTB_RHO_WEIGHTS_CONV_KGM3,
		.gamma = v->gamma_per_k,
		.level_div = r->level_div,
	};
}

int mtb_can_run_compute(const struct mtb_vessel *v, const struct mtb_can_run *run, const struct mtb_can_u_in *u,
			struct mtb_can_run_result *out, struct mtb_errbuf *eb)
{
	int rc = check_run(run, 0, eb);
	if (rc != MTB_OK)
		return rc;
	struct model_x x = run_x(v, run, u);
	memset(out, 0, sizeof *out);
	out->rho_water_kgm3 = water_density(run->water_temp_c, u->air_saturated_water);
	out->rho_air_kgm3 = mtb_air_density_cipm2007_kgm3(run->air_temp_c, run->p_hpa * 100.0, run->rh_pct, MTB_AIR_XCO2_DEFAULT);
	struct mtb_grav_in g = {
		.full_mg = run->full_mg, .empty_mg = run->empty_mg, .water_temp_c = run->water_temp_c,
		.rho_water_kgm3 = out->rho_water_kgm3, .rho_air_kgm3 = out->rho_air_kgm3,
		.rho_weights_kgm3 = x.rho_weights, .gamma_per_k = v->gamma_per_k, .ref_temp_c = v->ref_temp_c,
	};
	out->v_ref_ul = mtb_grav_volume_ul(&g);
	out->indicated_ul = mtb_vessel_scale_volume_ul(v, run->level_div);
	out->error_ul = (double)out->indicated_ul - out->v_ref_ul;
	return MTB_OK;
}

/* |dE/dx| x u(x) by a central difference of the model, step h on the member at offset off. */
static double contribution(const struct mtb_vessel *v, const struct model_x *x0, size_t off, double h, double u_x,
			   bool sat)
{
	if (!(u_x > 0))
		return 0;
	struct model_x a = *x0, b = *x0;
	*(double *)((char *)&a + off) += h;
	*(double *)((char *)&b + off) -= h;
	double c = (model_error(v, &a, sat) - model_error(v, &b, sat)) / (2 * h);
	return fabs(c) * u_x;
}

int mtb_can_series_compute(const struct mtb_vessel *v, const struct mtb_can_run *runs, int n,
			   const struct mtb_can_u_in *u, struct mtb_can_series *out, struct mtb_errbuf *eb)
{
	memset(out, 0, sizeof *out);
	if (n < 1 || n > MTB_CAN_MAX_RUNS)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "a series has 1-%d runs, got %d", MTB_CAN_MAX_RUNS, n);
	out->n = n;
	struct model_x mean = { 0 };
	for (int i = 0; i < n; i++) {
		int rc = check_run(&runs[i], i, eb);
		if (rc != MTB_OK)
			return rc;
		mtb_can_run_compute(v, &runs[i], u, &out->run[i], eb);
		out->mean_v_ref_ul += out->run[i].v_ref_ul / n;
		out->mean_error_ul += out->run[i].error_ul / n;
		struct model_x xi = run_x(v, &runs[i], u);
		mean.net_mg += xi.net_mg / n;
		mean.water_temp_c += xi.water_temp_c / n;
		mean.air_temp_c += xi.air_temp_c / n;
		mean.p_hpa += xi.p_hpa / n;
		mean.rh_pct += xi.rh_pct / n;
		mean.level_div += xi.level_div / n;
		mean.rho_weights = xi.rho_weights;
		mean.gamma = xi.gamma;
	}
	double ss = 0;
	for (int i = 0; i < n; i++)
		ss += (out->run[i].error_ul - out->mean_error_ul) * (out->run[i].error_ul - out->mean_error_ul);
	out->s_error_ul = n > 1 ? sqrt(ss / (n - 1)) : 0;

	/* Budget of the mean error, components as fractions of the mean volume. Balance: two
	 * readings per run, independent: u(net) = sqrt(2) u(reading), averaged over n runs for
	 * the random part; taken without the 1/sqrt(n) (calibration of the balance is common to
	 * every run), which is the conservative side. */
	double V = out->mean_v_ref_ul;
	bool sat = u->air_saturated_water;
	struct mtb_u_budget *b = &out->budget;
#define ADD(name, ul) mtb_u_budget_add(b, name, (ul) / V, MTB_U_STD, 1)
	ADD("balance (full and empty)", contribution(v, &mean, offsetof(struct model_x, net_mg), 1000, sqrt(2) * u->balance_u_mg, sat));
	ADD("water temperature", contribution(v, &mean, offsetof(struct model_x, water_temp_c), 0.01, u->water_temp_u_c, sat));
	ADD("water density", contribution(v, &mean, offsetof(struct model_x, rho_water_offset), 0.001, u->water_density_u_kgm3, sat));
	double ua_t = contribution(v, &mean, offsetof(struct model_x, air_temp_c), 0.01, u->air_temp_u_c, sat);
	double ua_p = contribution(v, &mean, offsetof(struct model_x, p_hpa), 0.1, u->p_u_hpa, sat);
	double ua_h = contribution(v, &mean, offsetof(struct model_x, rh_pct), 0.1, u->rh_u_pct, sat);
	double ua_f = contribution(v, &mean, offsetof(struct model_x, air_rel), 1e-4, u->air_formula_u_rel, sat);
	ADD("air density (t, p, RH, formula)", sqrt(ua_t * ua_t + ua_p * ua_p + ua_h * ua_h + ua_f * ua_f));
	ADD("density of the weights", contribution(v, &mean, offsetof(struct model_x, rho_weights), 1, u->rho_weights_u_kgm3, sat));
	ADD("vessel expansion", contribution(v, &mean, offsetof(struct model_x, gamma), mean.gamma * 1e-3,
					     u->gamma_u_rel * mean.gamma, sat));
	/* one reading per run; the mean of n readings */
	ADD("meniscus reading", contribution(v, &mean, offsetof(struct model_x, level_div), 0.01, u->reading_u_div, sat) / sqrt(n));
	if (v->delivery == MTB_VESSEL_TO_DELIVER && u->drain_u_ul > 0)
		ADD("drainage (to deliver)", contribution(v, &mean, offsetof(struct model_x, drain_ul), 1, u->drain_u_ul, sat) / sqrt(n));
	if (n > 1)
		ADD("repeatability s/sqrt(n)", out->s_error_ul / sqrt(n));
#undef ADD
	mtb_u_budget_combine(b, 2.0);
	out->u_exp_ul = b->u_exp * V;
	out->error_ul = llround(out->mean_error_ul);
	out->u_exp_ul_int = (int64_t)ceil(out->u_exp_ul);
	out->verdict = mtb_vessel_judge(v, out->error_ul, out->u_exp_ul_int);
	return MTB_OK;
}

double mtb_transfer_volume_ul(int64_t v_rm_ref_ul, double gamma_rm_per_k, double ref_temp_rm_c, double t_rm_c,
			      double gamma_test_per_k, double ref_temp_test_c, double t_test_c)
{
	double v_rm_t = (double)v_rm_ref_ul * (1.0 + gamma_rm_per_k * (t_rm_c - ref_temp_rm_c));
	double v_test_t = v_rm_t * mtb_water_density_kgm3(t_rm_c) / mtb_water_density_kgm3(t_test_c);
	return v_test_t / (1.0 + gamma_test_per_k * (t_test_c - ref_temp_test_c));
}

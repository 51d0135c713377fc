#include "bench/can_procedure.h"

#include "calibration/gravimetric.h"
#include "calibration/water.h"
#include "core/err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mtb_can_plan_defaults(struct mtb_can_plan *p)
{
	memset(p, 0, sizeof *p);
	p->runs = 3;
	p->fill_flow_lps = 0.1;
	p->settle_s = 30;
	p->stable_timeout_s = 20;
	p->poll_s = 0.5;
	p->meniscus_tries = 3;
	p->fill_aim_div = 0;
	p->fill_tolerance_div = 0.2;
	p->coarse_stop_div = 2;
	p->topup_tolerance_div = 0.1;
	p->u.rho_weights_kgm3 = MTB_RHO_WEIGHTS_CONV_KGM3;
}

const char *mtb_can_state_name(enum mtb_can_state s)
{
	static const char *const names[] = { "idle", "wet", "weigh-empty", "fill", "settle", "read", "deliver", "done", "aborted",
					     "recover" };
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *mtb_can_step_kind_name(int kind)
{
	static const char *const names[] = { "coarse", "fine", "top-up", "stop", "unread" };
	return kind >= 0 && (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

struct ctx {
	const struct mtb_vessel *v;
	const struct mtb_can_plan *plan;
	struct mtb_can_io *io;
	struct mtb_can_result *res;
	enum mtb_can_state state;
	double flow_mgps;   /* the fill valve's flow as last measured (mg/s) */
};

/* The procedure enters a state (for run run_index); the port's observer hears of it. */
static void enter(struct ctx *c, enum mtb_can_state s, int run_index)
{
	c->state = s;
	if (c->io->ops->state_changed)
		c->io->ops->state_changed(c->io->ctx, (int)s, run_index);
}

static void step(struct ctx *c, int kind, int64_t open_us, int64_t mass_mg, double level_div, double aim)
{
	if (!c->io->ops->fill_step)
		return;
	struct mtb_can_fill_step s = { kind, c->io->ops->now_us(c->io->ctx), open_us, mass_mg, level_div, aim };
	c->io->ops->fill_step(c->io->ctx, &s);
}

static int abort_run(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int abort_run(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->res->reason, sizeof c->res->reason, fmt, ap);
	va_end(ap);
	c->res->failed_in = c->state;
	c->res->state = MTB_CAN_ABORTED;
	c->io->ops->safe_state(c->io->ctx);
	return MTB_ERR_STATE;
}

/* Lets bench time pass; the operator's abort ends the run here. */
static int pass_time(struct ctx *c, int64_t dt_us)
{
	c->io->ops->wait_us(c->io->ctx, dt_us);
	if (c->io->abort_flag && __atomic_load_n(c->io->abort_flag, __ATOMIC_SEQ_CST))
		return abort_run(c, "aborted by the operator");
	return MTB_OK;
}

/* A stable balance reading within the timeout; silence, overload or a balance that never
 * settles abort the run: no volume is ever computed from an unstable or missing reading. */
static int stable_mass(struct ctx *c, int64_t *mass_mg)
{
	const struct mtb_can_io_ops *o = c->io->ops;
	int64_t t0 = o->now_us(c->io->ctx);
	int64_t limit = (int64_t)(c->plan->stable_timeout_s * 1e6);
	int last = MTB_OK;
	for (;;) {
		struct mtb_balance_obs b;
		last = o->read_balance(c->io->ctx, &b);
		if (last == MTB_OK && b.stable) {
			*mass_mg = b.mass_mg;
			return MTB_OK;
		}
		if (last == MTB_ERR_RANGE)
			return abort_run(c, "balance overload or underload");
		if (o->now_us(c->io->ctx) - t0 >= limit)
			return abort_run(c, last == MTB_ERR_TIMEOUT ? "balance silent for %.0f s"
								     : last != MTB_OK ? "balance refused for %.0f s"
										      : "balance not stable within %.0f s",
					 c->plan->stable_timeout_s);
		if (pass_time(c, (int64_t)(c->plan->poll_s * 1e6)) != MTB_OK)
			return MTB_ERR_STATE;
	}
}

/* The line the fill aims at (divisions from line 0): the nominal line + the plan's offset, or
 * 1.5 divisions below the top line when the scale ends there (cylinders), leaving room for the
 * vessel's own error and the valve's overshoot; the scale then reads where the water stands. */
static double aim_div(const struct mtb_vessel *v, const struct mtb_can_plan *p)
{
	return fmin(v->scale.nominal_div + p->fill_aim_div, v->scale.divisions - 1.5);
}

static double div_ul(const struct mtb_vessel *v, double d)
{
	return (double)v->scale.zero_ul + d * (double)v->scale.division_ul;
}

/* What the balance (conventional mass, weights of 8000 kg/m3) shows for `ul` of water held at
 * the reference temperature by the vessel with water at t_c and air of density rho_a, mg:
 * V (1 + g (t - t_ref)) (rho_W(t) - rho_A) / (1 - rho_A / 8000) -- ISO 4787's formula solved for
 * the balance reading. */
static int64_t mass_for_ul(const struct mtb_vessel *v, double ul, double t_c, double rho_a)
{
	double held_l = ul * 1e-6 * (1 + v->gamma_per_k * (t_c - v->ref_temp_c));
	return llround(held_l * 1e3 * (mtb_water_density_kgm3(t_c) - rho_a) / (1 - rho_a / MTB_RHO_WEIGHTS_CONV_KGM3));
}

/* Opens the fill valve until the balance shows `target` mg, then closes it. */
static int fill_coarse(struct ctx *c, int64_t target)
{
	const struct mtb_can_io_ops *o = c->io->ops;
	double vol_l = (double)mtb_vessel_nominal_line_ul(c->v) / 1e6;
	int64_t limit = (int64_t)(3 * vol_l / c->plan->fill_flow_lps * 1e6) + 60000000;
	int64_t t0 = o->now_us(c->io->ctx), last_ok = t0, last_mass = 0;
	int64_t silent_limit = (int64_t)(c->plan->stable_timeout_s * 1e6);
	if (o->set_fill(c->io->ctx, true) != MTB_OK)
		return abort_run(c, "fill valve did not open");
	for (;;) {
		struct mtb_balance_obs b;
		int rc = o->read_balance(c->io->ctx, &b);
		if (rc == MTB_ERR_RANGE)
			return abort_run(c, "balance overload while filling");
		if (rc == MTB_OK)
			last_mass = b.mass_mg;
		if (rc == MTB_OK && b.mass_mg >= target)
			break;
		int64_t now = o->now_us(c->io->ctx);
		if (rc == MTB_OK)
			last_ok = now;
		else if (now - last_ok >= silent_limit)   /* filling blind: stop the water now */
			return abort_run(c, rc == MTB_ERR_TIMEOUT ? "balance silent for %.0f s while filling"
								  : "balance refused for %.0f s while filling",
					 c->plan->stable_timeout_s);
		if (now - t0 > limit)
			return abort_run(c, rc == MTB_ERR_TIMEOUT ? "balance silent while filling" : "fill did not reach the nominal mass in time");
		/* poll faster near the end: at most a twentieth of the remaining time */
		double remain_s = rc == MTB_OK ? (double)(target - b.mass_mg) / 1e6 / c->plan->fill_flow_lps : 4 * c->plan->poll_s;
		double dt = fmin(c->plan->poll_s, fmax(0.02, remain_s / 4));   /* no reading: the plain poll interval */
		if (pass_time(c, (int64_t)(dt * 1e6)) != MTB_OK)
			return MTB_ERR_STATE;
	}
	if (o->set_fill(c->io->ctx, false) != MTB_OK)
		return abort_run(c, "fill valve did not close");
	step(c, MTB_CAN_STEP_COARSE, o->now_us(c->io->ctx) - t0, last_mass, NAN, NAN);
	return MTB_OK;
}

/* Fills to the aimed line: coarse by mass to coarse_stop_div below it (water at 20 C, air
 * 1.2 kg/m3), then, with the water temperature and the air measured, short openings of the
 * valve, each weighed stable, until the mass is within fill_tolerance_div below the aim. Each
 * opening is 70 % of the time the remaining mass needs at the flow measured on the previous
 * opening (the plan's flow for the first), so it approaches from below; water above the aim
 * stays (the scale is read where it stands). */
#define MTB_CAN_MAX_FINE_OPENINGS 20
static int fill_to_nominal(struct ctx *c, int64_t empty_mg)
{
	const struct mtb_can_io_ops *o = c->io->ops;
	double aim = aim_div(c->v, c->plan);
	double coarse = c->plan->coarse_stop_div > 0 ? aim - c->plan->coarse_stop_div : aim;
	if (fill_coarse(c, empty_mg + mass_for_ul(c->v, div_ul(c->v, coarse), 20, 1.2)) != MTB_OK)
		return MTB_ERR_STATE;
	if (!(c->plan->coarse_stop_div > 0))
		return MTB_OK;
	struct mtb_can_conditions cond;
	if (o->read_conditions(c->io->ctx, &cond) != MTB_OK)
		return abort_run(c, "water and air conditions not read for the fine fill");
	double rho_a = mtb_air_density_cipm2007_kgm3(cond.air_temp_c, cond.p_hpa * 100, cond.rh_pct, MTB_AIR_XCO2_DEFAULT);
	int64_t target = empty_mg + mass_for_ul(c->v, div_ul(c->v, aim), cond.water_temp_c, rho_a);
	int64_t tol_mg = target - empty_mg - mass_for_ul(c->v, div_ul(c->v, aim - c->plan->fill_tolerance_div),
							  cond.water_temp_c, rho_a);
	double flow_mgps = c->flow_mgps;
	int64_t m;
	if (stable_mass(c, &m) != MTB_OK)
		return MTB_ERR_STATE;
	for (int k = 0; target - m > tol_mg; k++) {
		if (k == MTB_CAN_MAX_FINE_OPENINGS)
			return abort_run(c, "fine fill: %.2f divisions below the aim after %d openings",
					 (double)(target - m) / (double)tol_mg * c->plan->fill_tolerance_div, k);
		int64_t open_us = (int64_t)fmax(1000, 0.7 * (double)(target - m) / flow_mgps * 1e6);
		if (o->set_fill(c->io->ctx, true) != MTB_OK)
			return abort_run(c, "fill valve did not open");
		if (pass_time(c, open_us) != MTB_OK)
			return MTB_ERR_STATE;
		if (o->set_fill(c->io->ctx, false) != MTB_OK)
			return abort_run(c, "fill valve did not close");
		int64_t m2;
		if (stable_mass(c, &m2) != MTB_OK)
			return MTB_ERR_STATE;
		if (m2 > m)
			flow_mgps = (double)(m2 - m) / (open_us / 1e6);
		m = m2;
		c->flow_mgps = flow_mgps;
		step(c, MTB_CAN_STEP_FINE, open_us, m, NAN, aim);
	}
	return MTB_OK;
}

/* The line the top-up by the meniscus aims at: the nominal line + the plan's offset, at most
 * the top line (on a cylinder whose scale ends at the nominal line, the line itself: the
 * reading sees where the water is, so no margin is left for the vessel's error). */
static double topup_div(const struct mtb_vessel *v, const struct mtb_can_plan *p)
{
	return fmin(v->scale.nominal_div + p->fill_aim_div, v->scale.divisions);
}

/* The final top-up by the meniscus (struct mtb_can_plan): read, and below the line by more
 * than the tolerance, open the valve for 70 % of what the reading says is missing to the middle
 * of the tolerance band at the flow last measured, weigh stable, read again. The meniscus reading decides, the balance only
 * shows the water went in; a meniscus that cannot be read ends the top-up (the reading of the
 * run then decides whether the run goes on). At most 20 openings. */
static int top_up(struct ctx *c)
{
	const struct mtb_can_io_ops *o = c->io->ops;
	double tol = c->plan->topup_tolerance_div;
	if (!(tol > 0))
		return MTB_OK;
	double aim = topup_div(c->v, c->plan);
	for (int k = 0;; k++) {
		int64_t m;
		if (stable_mass(c, &m) != MTB_OK)
			return MTB_ERR_STATE;
		struct mtb_meniscus_obs r = { 0 };
		int tries = 0;
		for (; tries < c->plan->meniscus_tries; tries++) {
			if (o->read_meniscus(c->io->ctx, &r) == MTB_OK && r.ok)
				break;
			if (pass_time(c, 1000000) != MTB_OK)
				return MTB_ERR_STATE;
		}
		if (tries == c->plan->meniscus_tries) {
			step(c, MTB_CAN_STEP_UNREAD, 0, m, NAN, aim);
			return MTB_OK;
		}
		if (r.level_div >= aim - tol) {
			step(c, MTB_CAN_STEP_STOP, 0, m, r.level_div, aim);
			return MTB_OK;
		}
		if (k == MTB_CAN_MAX_FINE_OPENINGS)
			return abort_run(c, "top-up: %.2f divisions below the line after %d openings", aim - r.level_div, k);
		/* to the middle of the tolerance band: a reading a little low, or an opening a little
		 * long, then still stays under the line (on a cylinder, under the top of its scale) */
		/* (0.998 mg of water a microlitre: near enough for an opening's time) */
		double missing_mg = (aim - tol / 2 - r.level_div) * (double)c->v->scale.division_ul * 0.998;
		int64_t open_us = (int64_t)fmax(1000, 0.7 * missing_mg / c->flow_mgps * 1e6);
		if (o->set_fill(c->io->ctx, true) != MTB_OK)
			return abort_run(c, "fill valve did not open");
		if (pass_time(c, open_us) != MTB_OK)
			return MTB_ERR_STATE;
		if (o->set_fill(c->io->ctx, false) != MTB_OK)
			return abort_run(c, "fill valve did not close");
		int64_t m2;
		if (stable_mass(c, &m2) != MTB_OK)
			return MTB_ERR_STATE;
		if (m2 > m)
			c->flow_mgps = (double)(m2 - m) / (open_us / 1e6);
		step(c, MTB_CAN_STEP_TOPUP, open_us, m2, r.level_div, aim);
	}
}

/* Empties the vessel and lets it drain for the drain time after the stream stops. Recovering
 * (a resumed session), the vessel may have been overfilled while nobody watched: a balance in
 * overload is then waited out while the water runs off, not taken for a silent one. */
static int deliver_from(struct ctx *c, bool recovering)
{
	const struct mtb_can_io_ops *o = c->io->ops;
	double vol_l = (double)mtb_vessel_nominal_line_ul(c->v) / 1e6;
	if (o->set_drain(c->io->ctx, true) != MTB_OK)
		return abort_run(c, "drain valve did not open");
	/* the main flow: until the mass stops falling (the stream breaks into drops) */
	int64_t prev = INT64_MAX, t0 = o->now_us(c->io->ctx), last_ok = t0;
	int64_t limit = (int64_t)(5 * vol_l / c->plan->fill_flow_lps * 1e6) + 120000000;
	int64_t silent_limit = (int64_t)(c->plan->stable_timeout_s * 1e6);
	/* The stream has broken into drops when less than 0.005 % of the nominal volume leaves in a
	 * second (1 g/s for 20 L; an absolute 1 g/s would be the whole stream of a 100 mL cylinder). */
	int64_t drops_mg = (int64_t)fmax(1, (double)c->v->nominal_ul * 5e-5);
	for (;;) {
		if (pass_time(c, 1000000) != MTB_OK)
			return MTB_ERR_STATE;
		struct mtb_balance_obs b;
		int rc = o->read_balance(c->io->ctx, &b);
		if (rc == MTB_OK && prev - b.mass_mg < drops_mg)
			break;
		if (rc == MTB_OK || (recovering && rc == MTB_ERR_RANGE)) {
			prev = rc == MTB_OK ? b.mass_mg : INT64_MAX;
			last_ok = o->now_us(c->io->ctx);
		} else if (o->now_us(c->io->ctx) - last_ok >= silent_limit) {
			return abort_run(c, rc == MTB_ERR_TIMEOUT ? "balance silent for %.0f s while emptying"
								  : "balance refused for %.0f s while emptying",
					 c->plan->stable_timeout_s);
		}
		if (o->now_us(c->io->ctx) - t0 > limit)
			return abort_run(c, "the vessel did not empty in time");
	}
	if (pass_time(c, (int64_t)(c->v->drain_time_s * 1e6)) != MTB_OK)
		return MTB_ERR_STATE;
	if (o->set_drain(c->io->ctx, false) != MTB_OK)
		return abort_run(c, "drain valve did not close");
	return MTB_OK;
}

static int deliver(struct ctx *c) { return deliver_from(c, false); }

int mtb_can_procedure_run(const struct mtb_vessel *v, const struct mtb_can_plan *plan, struct mtb_can_io *io,
			  struct mtb_can_result *res)
{
	return mtb_can_procedure_resume(v, plan, io, NULL, res);
}

int mtb_can_procedure_resume(const struct mtb_vessel *v, const struct mtb_can_plan *plan, struct mtb_can_io *io,
			     const struct mtb_can_resume *from, struct mtb_can_result *res)
{
	if (!v || !plan || !io || !io->ops || !res || plan->runs < 1 || plan->runs > MTB_CAN_MAX_RUNS ||
	    !(plan->fill_flow_lps > 0) || !(plan->poll_s > 0) || !(plan->stable_timeout_s > 0) || plan->meniscus_tries < 1)
		return MTB_ERR_ARG;
	if (from && (from->n_runs < 0 || from->n_runs > plan->runs || (from->n_runs > 0 && !from->runs)))
		return MTB_ERR_ARG;
	memset(res, 0, sizeof *res);
	struct ctx c = { v, plan, io, res, MTB_CAN_IDLE, plan->fill_flow_lps * 1e6 };
	const struct mtb_can_io_ops *o = io->ops;
	int64_t t_start = o->now_us(io->ctx);
	bool deliver_v = v->delivery == MTB_VESSEL_TO_DELIVER;
	int64_t empty_mg = 0;
	int first = from ? from->n_runs : 0;
	for (int i = 0; i < first; i++) {
		res->runs[i] = from->runs[i];
		if (from->evidence_sha256)
			snprintf(res->evidence_sha256[i], sizeof res->evidence_sha256[i], "%s", from->evidence_sha256[i]);
	}
	res->n_runs = first;
	if (first == plan->runs)   /* interrupted after its last run was recorded: the series is due */
		goto series;

	if (from) {
		/* whatever the interruption left: valves closed, the vessel emptied and drained */
		enter(&c, MTB_CAN_RECOVER, first);
		if (o->safe_state(io->ctx) != MTB_OK) {
			abort_run(&c, "valves could not be closed");
			goto out;
		}
		if (deliver_from(&c, true) != MTB_OK)
			goto out;
	}
	if (deliver_v && first == 0) {
		/* wet: fill to the line, empty, drain -- the film left is part of every I_E after */
		enter(&c, MTB_CAN_WET, 0);
		int64_t m;
		if (stable_mass(&c, &m) != MTB_OK || fill_to_nominal(&c, m) != MTB_OK || deliver(&c) != MTB_OK)
			goto out;
	}
	enter(&c, MTB_CAN_WEIGH_EMPTY, first);
	int64_t weighed_mg;
	if (stable_mass(&c, &weighed_mg) != MTB_OK)
		goto out;
	/* to deliver: the drained vessel is the fill's base (each run weighs its own I_E after
	 * delivery); to contain: I_E is the dry vessel, weighed before the first fill */
	empty_mg = weighed_mg;
	if (!deliver_v && first > 0)
		empty_mg = from->runs[0].empty_mg;
	else if (!deliver_v && from && from->have_dry)
		empty_mg = from->dry_mg;
	else if (!deliver_v && o->tared)
		o->tared(io->ctx, empty_mg);
	int64_t fill_base_mg = weighed_mg;
	for (int i = first; i < plan->runs; i++) {
		struct mtb_can_run *run = &res->runs[i];
		enter(&c, MTB_CAN_FILL, i);
		if (fill_to_nominal(&c, deliver_v ? empty_mg : fill_base_mg) != MTB_OK || top_up(&c) != MTB_OK)
			goto out;
		enter(&c, MTB_CAN_SETTLE, i);
		if (pass_time(&c, (int64_t)(plan->settle_s * 1e6)) != MTB_OK)
			goto out;
		enter(&c, MTB_CAN_READ, i);
		if (stable_mass(&c, &run->full_mg) != MTB_OK)
			goto out;
		struct mtb_meniscus_obs m = { 0 };
		int tries = 0;
		for (; tries < plan->meniscus_tries; tries++) {
			if (o->read_meniscus(io->ctx, &m) == MTB_OK && m.ok)
				break;
			if (pass_time(&c, 1000000) != MTB_OK)
				goto out;
		}
		if (tries == plan->meniscus_tries) {
			abort_run(&c, "meniscus not read (%s)", m.reason[0] ? m.reason : "reader failed");
			goto out;
		}
		run->level_div = m.level_div;
		snprintf(res->evidence_sha256[i], sizeof res->evidence_sha256[i], "%s", m.image_sha256);
		struct mtb_can_conditions cond;
		if (o->read_conditions(io->ctx, &cond) != MTB_OK) {
			abort_run(&c, "water and air conditions not read");
			goto out;
		}
		run->water_temp_c = cond.water_temp_c;
		run->air_temp_c = cond.air_temp_c;
		run->p_hpa = cond.p_hpa;
		run->rh_pct = cond.rh_pct;
		if (deliver_v) {
			/* to deliver: what left the vessel counts, so I_E is the drained vessel after */
			enter(&c, MTB_CAN_DELIVER, i);
			if (deliver(&c) != MTB_OK)
				goto out;
			enter(&c, MTB_CAN_WEIGH_EMPTY, i);
			if (stable_mass(&c, &empty_mg) != MTB_OK)
				goto out;
			run->empty_mg = empty_mg;
		} else {
			run->empty_mg = empty_mg;
		}
		res->n_runs = i + 1;
		if (o->run_done)
			o->run_done(io->ctx, i, run);
		if (!deliver_v && i + 1 < plan->runs) {
			/* to contain: empty before the next fill. The film left on the walls is part of
			 * what the vessel contains at the next fill, so I_E stays the dry vessel's weight
			 * from the start; the fill target only uses the wetted weight. */
			enter(&c, MTB_CAN_DELIVER, i);
			if (deliver(&c) != MTB_OK)
				goto out;
			enter(&c, MTB_CAN_WEIGH_EMPTY, i);
			int64_t wetted_mg;
			if (stable_mass(&c, &wetted_mg) != MTB_OK)
				goto out;
			fill_base_mg = wetted_mg;
		}
	}
series:
	res->bench_time_us = o->now_us(io->ctx) - t_start;
	{
		struct mtb_errbuf eb = { { 0 } };
		if (mtb_can_series_compute(v, res->runs, res->n_runs, &plan->u, &res->series, &eb) != MTB_OK) {
			c.state = MTB_CAN_READ;
			abort_run(&c, "%s", eb.msg);
			goto out;
		}
	}
	res->state = MTB_CAN_DONE;
	o->safe_state(io->ctx);
	return MTB_OK;
out:
	res->bench_time_us = o->now_us(io->ctx) - t_start;
	return MTB_OK;
}

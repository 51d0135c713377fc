/* The can procedure against an in-process fake bench: a can with an injected capacity error on
 * a balance, water with a known temperature, a meniscus reader with a small reading noise. The
 * procedure knows nothing of the truth and must find the injected error within its U. */
#include "bench/can_procedure.h"
#include "calibration/gravimetric.h"
#include "calibration/water.h"
#include "core/err.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {
struct fake {
	struct mtb_vessel v;
	double injected_error_ul = 0;   /* indicated - true capacity at 20 C */
	double t_us = 0;
	double water_ul = 0;            /* in the vessel, at the water temperature */
	double film_ul = 8000;          /* left on the walls when the main flow stops ... */
	double film_final_ul = 5000;    /* ... draining to this */
	double tare_mg = 3000000;       /* the empty, dry vessel */
	bool fill = false, drain = false;
	double q_ulps = 100000;         /* 0.1 L/s */
	double water_c = 23.5, air_c = 22, p_hpa = 1008, rh = 55;
	/* faults */
	bool silent_after_first = false, never_stable = false, meniscus_refuses = false, overload = false;
	double capacity_mg = 1e18;      /* above it the balance answers overload */
	int abort_flag = 0;             /* the operator's abort, set once the vessel holds ... */
	double abort_at_water_ul = -1;  /* ... this much water (< 0: never) */
	std::string states;             /* the states the procedure announced, "fill/1 settle/1 ..." */
	int64_t tared_mg = -1;
	int balance_reads = 0;
	std::vector<struct mtb_can_fill_step> steps;
	uint64_t noise = 12345;
	double reading_noise_div = 0.03;

	void step(double dt_s)
	{
		while (dt_s > 0) {
			double h = std::fmin(dt_s, 0.01);
			if (fill)
				water_ul += q_ulps * h;
			if (drain) {
				if (water_ul > film_ul)
					water_ul = std::fmax(film_ul, water_ul - 2 * q_ulps * h);
				else if (water_ul > film_final_ul)   /* drops: the film drains towards its final value, tau 3 s */
					water_ul = film_final_ul + (water_ul - film_final_ul) * std::exp(-h / 3.0);
			}
			t_us += h * 1e6;
			dt_s -= h;
		}
	}
	/* What a balance calibrated in conventional mass shows for the water: m (1 - rho_a/rho_w)
	 * / (1 - rho_a/8000), to 0.1 g. */
	int64_t indication_mg() const
	{
		double rho_w = mtb_water_density_kgm3(water_c);
		double rho_a = mtb_air_density_cipm2007_kgm3(air_c, p_hpa * 100, rh, 0.0004);
		double m_mg = water_ul * 1e-3 * rho_w;
		double ind = tare_mg + m_mg * (1 - rho_a / rho_w) / (1 - rho_a / 8000);
		return llround(ind / 100) * 100;
	}
	double uni()
	{
		noise = noise * 6364136223846793005ull + 1442695040888963407ull;
		return (double)(noise >> 11) / 9007199254740992.0;
	}
};

fake *F(void *c) { return static_cast<fake *>(c); }

const struct mtb_can_io_ops FAKE_OPS = {
	[](void *c) -> int64_t { return (int64_t)F(c)->t_us; },
	[](void *c, int64_t dt) -> int {
		fake *f = F(c);
		f->step(dt / 1e6);
		if (f->abort_at_water_ul >= 0 && f->water_ul >= f->abort_at_water_ul)
			f->abort_flag = 1;
		return MTB_OK;
	},
	[](void *c, bool open) -> int {
		F(c)->fill = open;
		return MTB_OK;
	},
	[](void *c, bool open) -> int {
		F(c)->drain = open;
		return MTB_OK;
	},
	[](void *c, struct mtb_balance_obs *out) -> int {
		fake *f = F(c);
		f->balance_reads++;
		if (f->silent_after_first && f->balance_reads > 1) {
			f->step(1.0);   /* the driver's read timeout passes */
			return MTB_ERR_TIMEOUT;
		}
		if (f->overload || (double)f->indication_mg() > f->capacity_mg)
			return MTB_ERR_RANGE;
		out->mass_mg = f->indication_mg();
		out->stable = !f->fill && !f->never_stable &&
			      !(f->drain && f->water_ul > f->film_final_ul + 50);
		return MTB_OK;
	},
	[](void *c, struct mtb_can_conditions *out) -> int {
		fake *f = F(c);
		out->water_temp_c = f->water_c;
		out->air_temp_c = f->air_c;
		out->p_hpa = f->p_hpa;
		out->rh_pct = f->rh;
		return MTB_OK;
	},
	[](void *c, struct mtb_meniscus_obs *out) -> int {
		fake *f = F(c);
		std::memset(out, 0, sizeof *out);
		if (f->meniscus_refuses) {
			std::snprintf(out->reason, sizeof out->reason, "glare over the meniscus");
			return MTB_OK;
		}
		/* the line the water stands at: the can delivers V_scale(d) - E at 20 C; it holds the
		 * film on top of that, and it has grown with the temperature */
		const struct mtb_neck_scale &s = f->v.scale;
		/* to contain: what it holds counts, film included */
		double held = f->v.delivery == MTB_VESSEL_TO_DELIVER ? f->water_ul - f->film_final_ul : f->water_ul;
		double delivered20 = held / (1 + f->v.gamma_per_k * (f->water_c - 20));
		double d = (delivered20 + f->injected_error_ul - (double)s.zero_ul) / (double)s.division_ul;
		out->ok = true;
		out->level_div = d + (f->uni() * 2 - 1) * f->reading_noise_div;
		out->confidence = 0.95;
		return MTB_OK;
	},
	[](void *c) -> int {
		F(c)->fill = F(c)->drain = false;
		return MTB_OK;
	},
	nullptr,
	[](void *c, int64_t dry_mg) { F(c)->tared_mg = dry_mg; },
	[](void *c, int state, int run_index) {
		F(c)->states += std::string(mtb_can_state_name((enum mtb_can_state)state)) + "/" + std::to_string(run_index + 1) + " ";
	},
	[](void *c, const struct mtb_can_fill_step *s) { F(c)->steps.push_back(*s); },
};

struct mtb_can_plan plan()
{
	struct mtb_can_plan p;
	mtb_can_plan_defaults(&p);
	p.runs = 3;
	p.u.balance_u_mg = 100;
	p.u.water_temp_u_c = 0.05;
	p.u.water_density_u_kgm3 = 0.002;
	p.u.air_temp_u_c = 0.3;
	p.u.p_u_hpa = 0.5;
	p.u.rh_u_pct = 3;
	p.u.air_formula_u_rel = 2.2e-5;
	p.u.rho_weights_u_kgm3 = 30;
	p.u.gamma_u_rel = 0.1;
	p.u.reading_u_div = 0.03 / std::sqrt(3.0);
	p.u.drain_u_ul = 300;
	return p;
}

void load(fake &f, const char *name)
{
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_vessel_load(name, &f.v, &eb), MTB_OK) << eb.msg;
}
} // namespace

TEST(CanProcedure, MeasuresTheInjectedErrorWithinU)
{
	for (double inj : { 4200.0, -2500.0, 15000.0 }) {
		fake f;
		load(f, "can-20l-ss304-td");
		f.injected_error_ul = inj;
		struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
		struct mtb_can_plan p = plan();
		struct mtb_can_result r;
		ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
		ASSERT_EQ(r.state, MTB_CAN_DONE) << r.reason;
		EXPECT_EQ(r.n_runs, 3);
		double err = r.series.mean_error_ul, U = r.series.u_exp_ul;
		std::printf("injected %+.0f uL: measured %+.1f uL, U %.1f uL (k = 2), s %.1f uL, bench time %.0f s, %s\n", inj,
			    err, U, r.series.s_error_ul, r.bench_time_us / 1e6, mtb_vessel_verdict_name(r.series.verdict));
		EXPECT_LE(std::fabs(err - inj), U) << inj;
		EXPECT_GT(U, 0);
		EXPECT_LT(U, 3334) << "U must allow a decision against one division";
		EXPECT_EQ(r.series.verdict, std::fabs(inj) <= 10000 ? MTB_VESSEL_PASS : MTB_VESSEL_FAIL) << inj;
		EXPECT_FALSE(f.fill || f.drain);   /* left in the safe state */
		/* to deliver: each run's I_E is the drained vessel after delivery */
		for (int i = 0; i < r.n_runs; i++)
			EXPECT_GT(r.runs[i].empty_mg, 3000000 + 4000 * 1000 / 1000);
	}
}

TEST(CanProcedure, CylinderToContain)
{
	fake f;
	load(f, "cyl-100ml-a");
	f.injected_error_ul = 300;   /* 0.3 mL: within class A 0.5 mL */
	f.q_ulps = 5000;
	f.film_ul = 400;
	f.film_final_ul = 250;
	struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
	struct mtb_can_plan p = plan();
	p.fill_flow_lps = 0.005;
	p.u.balance_u_mg = 1;   /* a 0.1 mg analytical balance */
	p.u.drain_u_ul = 0;
	struct mtb_can_result r;
	f.tare_mg = 80000;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	ASSERT_EQ(r.state, MTB_CAN_DONE) << r.reason;
	std::printf("cylinder: measured %+.1f uL, U %.1f uL, s %.1f uL\n", r.series.mean_error_ul, r.series.u_exp_ul,
		    r.series.s_error_ul);
	EXPECT_LE(std::fabs(r.series.mean_error_ul - 300), r.series.u_exp_ul);
	EXPECT_LT(r.series.u_exp_ul, 500 / 3.0);
	EXPECT_EQ(r.series.verdict, MTB_VESSEL_PASS);
	/* every run's I_E is the dry vessel: the film is part of the content */
	for (int i = 0; i < r.n_runs; i++)
		EXPECT_EQ(r.runs[i].empty_mg, 80000);
}

TEST(CanProcedure, TheOperatorsAbortStopsTheFillAndClosesTheValves)
{
	/* Ctrl-C or the live view's abort button in the middle of a fill: the fill valve closes
	 * at once (the next poll), no run and no volume. */
	fake f;
	load(f, "can-20l-ss304-td");
	f.abort_at_water_ul = 10e6;
	struct mtb_can_io io = { &FAKE_OPS, &f, &f.abort_flag };
	struct mtb_can_plan p = plan();
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	EXPECT_EQ(r.state, MTB_CAN_ABORTED);
	EXPECT_EQ(r.n_runs, 0);
	EXPECT_EQ(r.series.n, 0);
	EXPECT_NE(std::string(r.reason).find("operator"), std::string::npos) << r.reason;
	EXPECT_FALSE(f.fill || f.drain);
	/* no more than one poll's water (0.5 s at 0.1 L/s) after the abort */
	EXPECT_LT(f.water_ul, 10e6 + 60000);
}

TEST(CanProcedure, SilentBalanceNeverYieldsAVolume)
{
	fake f;
	load(f, "can-20l-ss304-td");
	f.silent_after_first = true;
	struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
	struct mtb_can_plan p = plan();
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	EXPECT_EQ(r.state, MTB_CAN_ABORTED);
	EXPECT_EQ(r.n_runs, 0);
	EXPECT_EQ(r.series.n, 0);
	EXPECT_NE(std::string(r.reason).find("silent"), std::string::npos) << r.reason;
	EXPECT_FALSE(f.fill || f.drain);
}

TEST(CanProcedure, UnstableBalanceNeverYieldsAVolume)
{
	fake f;
	load(f, "can-20l-ss304-td");
	f.never_stable = true;
	struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
	struct mtb_can_plan p = plan();
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	EXPECT_EQ(r.state, MTB_CAN_ABORTED);
	EXPECT_EQ(r.failed_in, MTB_CAN_WET);
	EXPECT_EQ(r.series.n, 0);
	EXPECT_NE(std::string(r.reason).find("not stable"), std::string::npos) << r.reason;
	f = fake();
	load(f, "can-20l-ss304-td");
	f.overload = true;
	io.ctx = &f;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	EXPECT_EQ(r.state, MTB_CAN_ABORTED);
	EXPECT_NE(std::string(r.reason).find("overload"), std::string::npos) << r.reason;
}

TEST(CanProcedure, RefusedMeniscusAbortsTheRun)
{
	fake f;
	load(f, "can-20l-ss304-td");
	f.meniscus_refuses = true;
	struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
	struct mtb_can_plan p = plan();
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	EXPECT_EQ(r.state, MTB_CAN_ABORTED);
	EXPECT_EQ(r.failed_in, MTB_CAN_READ);
	EXPECT_NE(std::string(r.reason).find("glare"), std::string::npos) << r.reason;
	EXPECT_EQ(r.series.n, 0);
	EXPECT_FALSE(f.fill || f.drain);
}

/* A session interrupted after its first run, the fill valve left open: the can ran over its
 * nominal volume into the balance's overload while nobody watched. The resumed procedure closes
 * the valves, drains the can (waiting out the overload), weighs it anew, and does runs 2 and 3;
 * run 1 stays exactly as recorded and the series covers all three. */
TEST(CanProcedure, ResumeRecoversAnOverfilledCanAndKeepsTheRecordedRuns)
{
	fake a;
	load(a, "can-20l-ss304-td");
	a.injected_error_ul = 4200;
	struct mtb_can_io io_a = { &FAKE_OPS, &a, nullptr };
	struct mtb_can_plan p = plan();
	p.stable_timeout_s = 5;
	struct mtb_can_result first;
	ASSERT_EQ(mtb_can_procedure_run(&a.v, &p, &io_a, &first), MTB_OK);
	ASSERT_EQ(first.state, MTB_CAN_DONE) << first.reason;

	fake b;
	load(b, "can-20l-ss304-td");
	b.injected_error_ul = 4200;
	b.water_ul = 26.5e6;            /* 26.5 L in a 20 L can, still filling */
	b.fill = true;
	b.capacity_mg = 3000000 + 26.0e6;   /* 29 kg: overload now, for about 10 s of draining */
	b.noise = 999;
	struct mtb_can_run recorded = first.runs[0];
	recorded.level_div += 0.001;    /* a run 1 this resumed session could not have made itself */
	char sha[1][65] = { "run1frame" };
	struct mtb_can_resume from = { 1, &recorded, sha, false, 0 };
	struct mtb_can_io io_b = { &FAKE_OPS, &b, nullptr };
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_resume(&b.v, &p, &io_b, &from, &r), MTB_OK);
	ASSERT_EQ(r.state, MTB_CAN_DONE) << r.reason << " in " << mtb_can_state_name(r.failed_in);
	EXPECT_EQ(r.n_runs, 3);
	EXPECT_EQ(std::memcmp(&r.runs[0], &recorded, sizeof recorded), 0);
	EXPECT_STREQ(r.evidence_sha256[0], "run1frame");
	EXPECT_EQ(b.states.rfind("recover/2 weigh-empty/2 fill/2 ", 0), 0u) << b.states;
	EXPECT_EQ(b.states.find("wet"), std::string::npos) << "a wetted can is not wetted again: " << b.states;
	EXPECT_LE(std::fabs(r.series.mean_error_ul - 4200), r.series.u_exp_ul);
	EXPECT_FALSE(b.fill || b.drain);
	std::printf("resumed after run 1 (can overfilled to 26.5 L): measured %+.1f uL, U %.1f uL, states %s\n",
		    r.series.mean_error_ul, r.series.u_exp_ul, b.states.c_str());

	/* interrupted after its last run was recorded: no water moves, the series is computed */
	fake c;
	load(c, "can-20l-ss304-td");
	struct mtb_can_resume all = { 3, first.runs, nullptr, false, 0 };
	struct mtb_can_io io_c = { &FAKE_OPS, &c, nullptr };
	ASSERT_EQ(mtb_can_procedure_resume(&c.v, &p, &io_c, &all, &r), MTB_OK);
	ASSERT_EQ(r.state, MTB_CAN_DONE);
	EXPECT_EQ(r.series.error_ul, first.series.error_ul);
	EXPECT_EQ(c.states, "");
	EXPECT_EQ(c.balance_reads, 0);
}

/* To contain: I_E is the dry vessel weighed before the first fill (sealed in the records as it
 * is weighed). Interrupted in its first run, the resumed session drains the wet cylinder and keeps
 * the recorded dry weight -- weighing the wet one instead would take its film out of every
 * volume. With no dry weight recorded the fill never started: the vessel is weighed dry. */
TEST(CanProcedure, ResumeToContainKeepsTheRecordedDryWeight)
{
	fake f;
	load(f, "cyl-100ml-a");
	f.injected_error_ul = 300;
	f.q_ulps = 5000;
	f.film_ul = 400;
	f.film_final_ul = 250;
	f.tare_mg = 80000;
	f.water_ul = 60000;   /* 60 mL in it when the program died */
	struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
	struct mtb_can_plan p = plan();
	p.fill_flow_lps = 0.005;
	p.u.balance_u_mg = 1;
	p.u.drain_u_ul = 0;
	struct mtb_can_resume from = { 0, nullptr, nullptr, true, 80000 };
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_resume(&f.v, &p, &io, &from, &r), MTB_OK);
	ASSERT_EQ(r.state, MTB_CAN_DONE) << r.reason;
	for (int i = 0; i < r.n_runs; i++)
		EXPECT_EQ(r.runs[i].empty_mg, 80000);
	EXPECT_LE(std::fabs(r.series.mean_error_ul - 300), r.series.u_exp_ul);
	EXPECT_EQ(f.tared_mg, -1) << "the recorded dry weight is not weighed again";

	fake g;
	load(g, "cyl-100ml-a");
	g.q_ulps = 5000;
	g.film_ul = 400;
	g.film_final_ul = 250;
	g.tare_mg = 80000;
	struct mtb_can_io io_g = { &FAKE_OPS, &g, nullptr };
	struct mtb_can_resume none = { 0, nullptr, nullptr, false, 0 };
	ASSERT_EQ(mtb_can_procedure_resume(&g.v, &p, &io_g, &none, &r), MTB_OK);
	ASSERT_EQ(r.state, MTB_CAN_DONE) << r.reason;
	EXPECT_EQ(g.tared_mg, 80000);
	EXPECT_EQ(r.runs[0].empty_mg, 80000);
}

/* The final top-up by the meniscus: the fill by mass cannot see the can's own error (-0.37
 * division here) and stops by mass within 0.2 division below the line, so the water stood
 * 0.4-0.6 division below it; reading the meniscus and topping up brings it to within the
 * plan's 0.1 division below the line, every reading and opening reported as a fill step, and
 * the error is still the gravimetric one. With topup_tolerance_div 0 the water stays where the
 * mass put it. */
TEST(CanProcedure, TopsUpByTheMeniscusToTheNominalLine)
{
	for (double tol : { 0.1, 0.0 }) {
		fake f;
		load(f, "can-20l-ss304-td");
		f.injected_error_ul = -3700;
		f.reading_noise_div = 0.005;
		struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
		struct mtb_can_plan p = plan();
		p.topup_tolerance_div = tol;
		struct mtb_can_result r;
		ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
		ASSERT_EQ(r.state, MTB_CAN_DONE) << r.reason;
		int topups = 0, stops = 0;
		for (const auto &s : f.steps) {
			if (s.kind == MTB_CAN_STEP_TOPUP) {
				topups++;
				EXPECT_GT(s.open_us, 0);
				EXPECT_LT(s.level_div, 9.9);
				EXPECT_EQ(s.aim_div, 10.0);
			}
			if (s.kind == MTB_CAN_STEP_STOP) {
				stops++;
				EXPECT_GE(s.level_div, 9.9);
			}
		}
		for (int i = 0; i < r.n_runs; i++) {
			std::printf("tolerance %.1f: run %d level %.3f division (line 10)\n", tol, i + 1, r.runs[i].level_div);
			if (tol > 0) {
				EXPECT_GE(r.runs[i].level_div, 10 - tol - 0.011) << i;
				EXPECT_LE(r.runs[i].level_div, 10.05) << i;
			} else {
				EXPECT_LT(r.runs[i].level_div, 9.7) << i;
			}
		}
		if (tol > 0) {
			EXPECT_GE(topups, 3);   /* at least one in each run */
			EXPECT_EQ(stops, 3);
		} else {
			EXPECT_EQ(topups + stops, 0);
		}
		EXPECT_LE(std::fabs(r.series.mean_error_ul - f.injected_error_ul), r.series.u_exp_ul);
		EXPECT_EQ(r.series.verdict, MTB_VESSEL_PASS);
	}
}

/* A cylinder whose scale ends at its nominal line: by mass the fill stops 1.5 divisions below
 * the top line (room for the vessel's error); the top-up by the meniscus then brings the water
 * to the nominal line itself, approached from below, never over the top of the scale. */
TEST(CanProcedure, TopsUpACylinderToItsTopLine)
{
	fake f;
	load(f, "cyl-100ml-a");
	f.injected_error_ul = -300;
	f.q_ulps = 500;
	f.film_ul = 400;
	f.film_final_ul = 250;
	f.tare_mg = 80000;
	f.reading_noise_div = 0.005;
	struct mtb_can_io io = { &FAKE_OPS, &f, nullptr };
	struct mtb_can_plan p = plan();
	p.fill_flow_lps = 0.0005;
	p.u.balance_u_mg = 1;
	p.u.drain_u_ul = 0;
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	ASSERT_EQ(r.state, MTB_CAN_DONE) << r.reason;
	for (int i = 0; i < r.n_runs; i++) {
		std::printf("100 mL cylinder: run %d level %.3f division (top line 90)\n", i + 1, r.runs[i].level_div);
		EXPECT_GE(r.runs[i].level_div, 89.89);
		EXPECT_LE(r.runs[i].level_div, 90.0);
	}
	EXPECT_LE(std::fabs(r.series.mean_error_ul - f.injected_error_ul), r.series.u_exp_ul);
}

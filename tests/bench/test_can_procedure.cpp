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
	int balance_reads = 0;
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
				else   /* drops: the film drains towards its final value, tau 3 s */
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
		F(c)->step(dt / 1e6);
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
		if (f->overload)
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
		struct mtb_can_io io = { &FAKE_OPS, &f };
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
	struct mtb_can_io io = { &FAKE_OPS, &f };
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

TEST(CanProcedure, SilentBalanceNeverYieldsAVolume)
{
	fake f;
	load(f, "can-20l-ss304-td");
	f.silent_after_first = true;
	struct mtb_can_io io = { &FAKE_OPS, &f };
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
	struct mtb_can_io io = { &FAKE_OPS, &f };
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
	struct mtb_can_io io = { &FAKE_OPS, &f };
	struct mtb_can_plan p = plan();
	struct mtb_can_result r;
	ASSERT_EQ(mtb_can_procedure_run(&f.v, &p, &io, &r), MTB_OK);
	EXPECT_EQ(r.state, MTB_CAN_ABORTED);
	EXPECT_EQ(r.failed_in, MTB_CAN_READ);
	EXPECT_NE(std::string(r.reason).find("glare"), std::string::npos) << r.reason;
	EXPECT_EQ(r.series.n, 0);
	EXPECT_FALSE(f.fill || f.drain);
}

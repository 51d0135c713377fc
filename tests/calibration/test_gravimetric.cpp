#include "calibration/gravimetric.h"
#include "calibration/water.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {
struct mtb_vessel can20()
{
	struct mtb_vessel v;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_vessel_load("can-20l-ss304-td", &v, &eb), MTB_OK) << eb.msg;
	return v;
}

struct mtb_can_u_in lab_u()
{
	struct mtb_can_u_in u = {};
	u.rho_weights_kgm3 = 8000;
	u.balance_u_mg = 100;          /* 0.1 g on a 30 kg balance */
	u.water_temp_u_c = 0.05;
	u.water_density_u_kgm3 = 0.002;
	u.air_temp_u_c = 0.3;
	u.p_u_hpa = 0.5;
	u.rh_u_pct = 3;
	u.air_formula_u_rel = 2.2e-5;
	u.rho_weights_u_kgm3 = 30;
	u.gamma_u_rel = 0.1;
	u.reading_u_div = 0.05;
	u.drain_u_ul = 1000;
	return u;
}
} // namespace

/* Worked by hand, every factor of ISO 4787 written out:
 *   t = 25 C: rho_W = 997.0470 kg/m3 (Tanaka, fact sheet 4), rho_A = 1.18, rho_B = 8000,
 *   gamma = 51.8e-6 /K, t_ref = 20 C, I_L - I_E = 19.940 kg.
 *   rho_W - rho_A         = 995.8670 kg/m3
 *   19.940 / 995.8670     = 0.020022754 m3       (20.022754 L)
 *   1 - rho_A/rho_B       = 1 - 0.0001475 = 0.9998525
 *   1 - gamma (t - 20)    = 1 - 0.000259  = 0.999741
 *   V20 = 20.022754 x 0.9998525 x 0.999741 = 20.014615 L
 * Each wrong sign moves the result far beyond the 1 uL tolerance:
 *   (rho_W + rho_A)         -> 19.967297 L (-47 mL)
 *   (1 + rho_A/rho_B)       -> 20.020520 L (+5.9 mL)
 *   [1 + gamma (t - 20)]    -> 20.024985 L (+10.4 mL) */
TEST(Gravimetric, Iso4787WorkedExampleAt25C)
{
	struct mtb_grav_in in = {};
	in.full_mg = 21940000;
	in.empty_mg = 2000000;
	in.water_temp_c = 25;
	in.rho_water_kgm3 = 997.0470;
	in.rho_air_kgm3 = 1.18;
	in.rho_weights_kgm3 = 8000;
	in.gamma_per_k = 51.8e-6;
	in.ref_temp_c = 20;
	EXPECT_NEAR(mtb_grav_volume_ul(&in), 20014615.1, 1.0);
	EXPECT_NEAR(mtb_water_density_kgm3(25), 997.0470, 0.00005);
}

/* At 20 C the expansion term vanishes: 19.963 kg / (998.2067 - 1.2) x (1 - 1.2/8000)
 * = 19.963 / 997.0067 x 0.99985 = 20.022937 x 0.99985 = 20.019930 L. */
TEST(Gravimetric, Iso4787AtReferenceTemperature)
{
	struct mtb_grav_in in = {};
	in.full_mg = 19963000;
	in.empty_mg = 0;
	in.water_temp_c = 20;
	in.rho_water_kgm3 = 998.2067;
	in.rho_air_kgm3 = 1.2;
	in.rho_weights_kgm3 = 8000;
	in.gamma_per_k = 51.8e-6;
	in.ref_temp_c = 20;
	EXPECT_NEAR(mtb_grav_volume_ul(&in), 20019930.3, 1.0);
	/* a glass vessel below its reference temperature: 99.700 g at 17 C, rho_W 998.7778,
	 * rho_A 1.21, rho_B 7950, gamma 9.9e-6: 99.700/997.5678 x (1 - 1.21/7950) x (1 + 3 x 9.9e-6)
	 * = 99.94310 x 0.99984780 x 1.0000297 = 99.93084 mL */
	struct mtb_grav_in g = {};
	g.full_mg = 150000;
	g.empty_mg = 50300;
	g.water_temp_c = 17;
	g.rho_water_kgm3 = 998.7778;
	g.rho_air_kgm3 = 1.21;
	g.rho_weights_kgm3 = 7950;
	g.gamma_per_k = 9.9e-6;
	g.ref_temp_c = 20;
	EXPECT_NEAR(mtb_grav_volume_ul(&g), 99930.84, 0.01);
}

/* Each density moves the volume the way physics says: more buoyancy from denser air, a
 * larger volume; denser water, a smaller one; a warmer expanding vessel, a smaller V20. */
TEST(Gravimetric, SignOfEveryTerm)
{
	struct mtb_grav_in in = {};
	in.full_mg = 20000000;
	in.water_temp_c = 22;
	in.rho_water_kgm3 = 997.7730;
	in.rho_air_kgm3 = 1.2;
	in.rho_weights_kgm3 = 8000;
	in.gamma_per_k = 50e-6;
	in.ref_temp_c = 20;
	double v0 = mtb_grav_volume_ul(&in);
	struct mtb_grav_in a = in;
	a.rho_air_kgm3 = 1.3;   /* dV/drho_A = V (1/(rho_W - rho_A) - 1/(rho_B - rho_A)) > 0 */
	EXPECT_NEAR(mtb_grav_volume_ul(&a) - v0, v0 * 0.1 * (1 / (997.7730 - 1.2) - 1 / (8000 - 1.2)), 0.5);
	a = in;
	a.rho_water_kgm3 += 0.1;
	EXPECT_LT(mtb_grav_volume_ul(&a), v0);
	a = in;
	a.rho_weights_kgm3 = 7000;   /* lighter weights: more buoyancy on them, less water */
	EXPECT_LT(mtb_grav_volume_ul(&a), v0);
	a = in;
	a.gamma_per_k = 100e-6;
	EXPECT_NEAR(mtb_grav_volume_ul(&a) / v0, (1 - 100e-6 * 2) / (1 - 50e-6 * 2), 1e-12);
}

TEST(Gravimetric, AirDensityFormulas)
{
	/* CIPM-2007 at 20 C, 101 325 Pa, 50 %, x_CO2 0.0004 */
	EXPECT_NEAR(mtb_air_density_cipm2007_kgm3(20, 101325, 50, 0.0004), 1.19931, 0.00002);
	/* dry air at 0 C, 101 325 Pa: p M / (Z R T) = 1.29305 kg/m3 (ideal gas 1.29225, Z ~ 0.99939) */
	EXPECT_NEAR(mtb_air_density_cipm2007_kgm3(0, 101325, 0, 0.0004), 1.2930, 0.0002);
	/* more CO2, heavier air: Ma grows by 12.011e-3 x 0.0001 per 100 ppm */
	EXPECT_GT(mtb_air_density_cipm2007_kgm3(20, 101325, 50, 0.0005), mtb_air_density_cipm2007_kgm3(20, 101325, 50, 0.0004));
	/* humid air is lighter */
	EXPECT_LT(mtb_air_density_cipm2007_kgm3(25, 100000, 90, 0.0004), mtb_air_density_cipm2007_kgm3(25, 100000, 10, 0.0004));
	/* the simplified formula agrees within 0.05 % over lab air */
	for (double t = 15; t <= 30; t += 5)
		for (double p = 950; p <= 1050; p += 50)
			for (double h = 20; h <= 80; h += 30) {
				double a = mtb_air_density_cipm2007_kgm3(t, p * 100, h, 0.0004);
				double b = mtb_air_density_simple_kgm3(t, p, h);
				EXPECT_NEAR(b / a, 1.0, 5e-4) << t << " C " << p << " hPa " << h << " %";
			}
}

TEST(Gravimetric, RunErrorIsScaleMinusTrueVolume)
{
	struct mtb_vessel v = can20();
	struct mtb_can_u_in u = lab_u();
	/* net mass chosen so the can holds 20.005 L at 20 C: V20 = m ... solve m from the formula */
	double rho_a = mtb_air_density_cipm2007_kgm3(21, 101000, 55, 0.0004);
	double rho_w = mtb_water_density_kgm3(20);
	double m_kg = 20.005e-3 * (rho_w - rho_a) / (1 - rho_a / 8000);
	struct mtb_can_run run = {};
	run.empty_mg = 3000000;
	run.full_mg = run.empty_mg + llround(m_kg * 1e6);
	run.water_temp_c = 20;
	run.air_temp_c = 21;
	run.p_hpa = 1010;
	run.rh_pct = 55;
	run.level_div = 10.0;   /* the nominal line: the scale says 20.000 L */
	struct mtb_can_run_result r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_can_run_compute(&v, &run, &u, &r, &eb), MTB_OK) << eb.msg;
	EXPECT_NEAR(r.v_ref_ul, 20005000, 1.0);
	EXPECT_EQ(r.indicated_ul, 20000000);
	EXPECT_NEAR(r.error_ul, -5000, 1.0);   /* holds more than it says: negative error */
	run.full_mg = run.empty_mg;
	EXPECT_EQ(mtb_can_run_compute(&v, &run, &u, &r, &eb), MTB_ERR_RANGE);
	EXPECT_NE(std::string(eb.msg).find("not above the empty"), std::string::npos) << eb.msg;
	run.full_mg = run.empty_mg + 20000000;
	run.water_temp_c = 45;
	EXPECT_EQ(mtb_can_run_compute(&v, &run, &u, &r, &eb), MTB_ERR_RANGE);
}

/* A series: mean, s, the budget's components and the verdict. */
TEST(Gravimetric, SeriesStatisticsAndBudget)
{
	struct mtb_vessel v = can20();
	struct mtb_can_u_in u = lab_u();
	struct mtb_can_run runs[4];
	double levels[4] = { 10.1, 10.3, 10.2, 10.2 };   /* the reading varies, the water does not */
	for (int i = 0; i < 4; i++) {
		runs[i] = {};
		runs[i].empty_mg = 3000000;
		runs[i].full_mg = 3000000 + 19963000;
		runs[i].water_temp_c = 20;
		runs[i].air_temp_c = 20;
		runs[i].p_hpa = 1013.25;
		runs[i].rh_pct = 50;
		runs[i].level_div = levels[i];
	}
	struct mtb_can_series s;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_can_series_compute(&v, runs, 4, &u, &s, &eb), MTB_OK) << eb.msg;
	/* errors 1000, 3000, 2000, 2000 uL around a common V: mean +2000 + (20.0 - V), s = 816.5 */
	double v_ref = s.run[0].v_ref_ul;
	EXPECT_NEAR(s.mean_error_ul, 20002000 - v_ref, 1e-6);
	EXPECT_NEAR(s.s_error_ul, sqrt(2.0e6 / 3.0), 1e-6);
	/* the components named in docs/cans.md, in order */
	const char *names[] = { "balance (full and empty)", "water temperature", "water density",
				"air density (t, p, RH, formula)", "density of the weights", "vessel expansion",
				"meniscus reading", "drainage (to deliver)", "repeatability s/sqrt(n)" };
	ASSERT_EQ(s.budget.n, 9);
	for (int i = 0; i < 9; i++)
		EXPECT_STREQ(s.budget.c[i].name, names[i]);
	/* balance: sqrt(2) x 100 mg -> 141.4 mg / 997 kg/m3 x 0.99985 ~ 141.8 uL */
	EXPECT_NEAR(s.budget.c[0].u * s.mean_v_ref_ul, 141.4 / 0.99701, 0.5);
	/* meniscus: 0.05 div x 10 000 uL / sqrt(4) = 250 uL */
	EXPECT_NEAR(s.budget.c[6].u * s.mean_v_ref_ul, 250, 1e-3);
	/* vessel expansion: at t = t_ref the term has no weight */
	EXPECT_NEAR(s.budget.c[5].u, 0, 1e-12);
	/* water temperature: dV/dt = V (beta_W rho_W/(rho_W - rho_A) - gamma); the expansion term
	 * has no weight at t = t_ref but its derivative -gamma does:
	 * (2.07e-4 - 0.518e-4) x 20.02 L x 0.05 K = 155.4 uL */
	EXPECT_NEAR(s.budget.c[1].u * s.mean_v_ref_ul, (2.07e-4 - 51.8e-6) * 20.02e6 * 0.05, 1);
	EXPECT_NEAR(s.budget.c[8].u * s.mean_v_ref_ul, s.s_error_ul / 2, 1e-6);
	double sum = 0;
	for (int i = 0; i < s.budget.n; i++)
		sum += s.budget.c[i].u * s.budget.c[i].u;
	EXPECT_NEAR(s.u_exp_ul, 2 * sqrt(sum) * s.mean_v_ref_ul, 1e-6);
	EXPECT_EQ(s.error_ul, llround(s.mean_error_ul));
	EXPECT_EQ(s.verdict, std::llabs(s.error_ul) <= 10000 ? MTB_VESSEL_PASS : MTB_VESSEL_FAIL);
}

/* The water at 25 C weighs less per litre and the steel has grown: the same mass stands for a
 * larger V20 than at 20 C by the ratio of the densities, less the expansion. */
TEST(Gravimetric, TemperatureEntersThroughDensityAndExpansion)
{
	struct mtb_vessel v = can20();
	struct mtb_can_u_in u = lab_u();
	struct mtb_can_run run = {};
	run.full_mg = 19960000;
	run.air_temp_c = 20;
	run.p_hpa = 1013.25;
	run.rh_pct = 50;
	run.level_div = 10;
	run.water_temp_c = 20;
	struct mtb_can_run_result a, b;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_can_run_compute(&v, &run, &u, &a, &eb), MTB_OK);
	run.water_temp_c = 25;
	ASSERT_EQ(mtb_can_run_compute(&v, &run, &u, &b, &eb), MTB_OK);
	double ra = a.rho_air_kgm3;
	double expect = (mtb_water_density_kgm3(20) - ra) / (mtb_water_density_kgm3(25) - ra) * (1 - 51.8e-6 * 5);
	EXPECT_NEAR(b.v_ref_ul / a.v_ref_ul, expect, 1e-12);
}

/* Volumetric transfer: 20 L from a reference measure at 20 C into the can at 20 C is 20 L; with
 * the reference measure at 22 C it holds 20 L x (1 + g 2) of water at 22 C, which becomes
 * rho(22)/rho(20) of that volume at 20 C. */
TEST(Gravimetric, VolumetricTransfer)
{
	EXPECT_NEAR(mtb_transfer_volume_ul(20000000, 48e-6, 20, 20, 51.8e-6, 20, 20), 20000000, 1e-6);
	double v = mtb_transfer_volume_ul(20000000, 48e-6, 20, 22, 51.8e-6, 20, 20);
	EXPECT_NEAR(v, 20000000 * (1 + 48e-6 * 2) * mtb_water_density_kgm3(22) / mtb_water_density_kgm3(20), 0.2);
	EXPECT_NEAR(v, 20000000 * (1 + 48e-6 * 2) * 997.7730 / 998.2067, 2);   /* fact sheet 4's table */
	/* the can warmer than its reference temperature holds the water in a grown can */
	double w = mtb_transfer_volume_ul(20000000, 48e-6, 20, 20, 51.8e-6, 20, 23);
	EXPECT_LT(w, 20000000 * mtb_water_density_kgm3(20) / mtb_water_density_kgm3(23));
}

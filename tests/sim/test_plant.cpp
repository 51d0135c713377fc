// The simulator's physics: curves, hydraulics, dynamics, exact volumes, reference, air, faults,
// determinism (docs/sim.md).
#include "sim/sim.h"
#include "sim_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace {

struct Plant {
	mtb_sim_plant *p = nullptr;
	explicit Plant(const mtb_sim_config *c)
	{
		mtb_errbuf eb = {};
		EXPECT_EQ(mtb_sim_plant_create(c, &p, &eb), MTB_OK) << eb.msg;
	}
	~Plant() { mtb_sim_plant_destroy(p); }
	mtb_sim_truth truth() const
	{
		mtb_sim_truth t;
		mtb_sim_plant_truth(p, &t);
		return t;
	}
	mtb_sim_readings read() const
	{
		mtb_sim_readings r;
		mtb_sim_plant_read(p, &r);
		return r;
	}
	void run(double hz, double cv_pct, double seconds)
	{
		mtb_sim_plant_set_pump_run(p, true);
		ASSERT_EQ(mtb_sim_plant_set_pump_hz(p, hz), MTB_OK);
		mtb_sim_plant_set_inlet_open(p, true);
		ASSERT_EQ(mtb_sim_plant_set_cv_pct(p, cv_pct), MTB_OK);
		mtb_sim_plant_advance(p, (int64_t)(seconds * 1e6));
	}
};

TEST(SimCurve, LinearBetweenPointsFlatOutside)
{
	mtb_sim_curve c = {};
	c.n = 3;
	c.pt[0] = { 15.6, -3.0, 0.2 };
	c.pt[1] = { 25.0, -1.0, 0.1 };
	c.pt[2] = { 2500.0, 0.8, 0.1 };
	EXPECT_DOUBLE_EQ(mtb_sim_curve_error_pct(&c, 1.0), -3.0);
	EXPECT_DOUBLE_EQ(mtb_sim_curve_error_pct(&c, 15.6), -3.0);
	EXPECT_NEAR(mtb_sim_curve_error_pct(&c, 20.3), -2.0, 1e-12);
	EXPECT_DOUBLE_EQ(mtb_sim_curve_error_pct(&c, 25.0), -1.0);
	EXPECT_NEAR(mtb_sim_curve_error_pct(&c, 1262.5), -0.1, 1e-12);
	EXPECT_DOUBLE_EQ(mtb_sim_curve_error_pct(&c, 9999), 0.8);
	EXPECT_NEAR(mtb_sim_curve_u_pct(&c, 20.3), 0.15, 1e-12);
	mtb_sim_curve empty = {};
	EXPECT_EQ(mtb_sim_curve_error_pct(&empty, 100), 0.0);
}

TEST(SimPlant, NoFlowUntilPumpInletAndControlValveAllOpen)
{
	auto c = test_config(2);
	Plant pl(c.get());
	mtb_sim_plant_set_pump_run(pl.p, true);
	mtb_sim_plant_set_pump_hz(pl.p, 50);
	mtb_sim_plant_set_cv_pct(pl.p, 50);
	mtb_sim_plant_advance(pl.p, 30000000);
	EXPECT_EQ(pl.truth().flow_lph, 0.0);   // inlet valve closed
	EXPECT_EQ(pl.truth().ref_true_ul, 0);
	mtb_sim_plant_set_inlet_open(pl.p, true);
	mtb_sim_plant_advance(pl.p, 30000000);
	EXPECT_GT(pl.truth().flow_lph, 1000.0);
	mtb_sim_plant_set_pump_run(pl.p, false);
	mtb_sim_plant_advance(pl.p, 60000000);
	EXPECT_EQ(pl.truth().flow_lph, 0.0);
}

TEST(SimPlant, FlowSettlesFirstOrderOverSeconds)
{
	auto c = test_config(1);
	c->plant.pump_ramp_hz_per_s = 1000;   // isolate the flow's own dynamics
	c->plant.inlet_travel_s = 0.01;
	c->plant.cv_rate_pct_per_s = 1000;
	Plant pl(c.get());
	pl.run(50, 60, 0.05);   // actuators in place after 50 ms
	double q_early = pl.truth().flow_lph;
	mtb_sim_plant_advance(pl.p, 60000000);
	double q_ss = pl.truth().flow_lph;
	ASSERT_GT(q_ss, 100.0);
	EXPECT_LT(q_early, 0.1 * q_ss);
	// one time constant later: 1 - 1/e of the way, within the 50 ms start
	Plant pl2(c.get());
	pl2.run(50, 60, c->plant.flow_tau_s);
	double frac = pl2.truth().flow_lph / q_ss;
	EXPECT_NEAR(frac, 1 - std::exp(-1.0), 0.03);
	Plant pl3(c.get());
	pl3.run(50, 60, 5 * c->plant.flow_tau_s);
	EXPECT_NEAR(pl3.truth().flow_lph / q_ss, 1.0, 0.01);
}

TEST(SimPlant, ReachesQ1ToQ4OfADn15)
{
	auto c = test_config(10);
	Plant lo(c.get());
	lo.run(50, 2.0, 60);   // a small opening of the equal-percentage valve
	double q_lo = lo.truth().flow_lph;
	EXPECT_GT(q_lo, 5.0);
	EXPECT_LT(q_lo, 30.0);   // Q1 of DN15 R160 is 15.625 L/h
	Plant hi(c.get());
	hi.run(50, 100, 60);
	EXPECT_GT(hi.truth().flow_lph, 3125.0);   // Q4
	// the characteristic is monotonic in the opening
	double prev = 0;
	for (double x : { 1.0, 5.0, 10.0, 30.0, 60.0, 100.0 }) {
		Plant p(c.get());
		p.run(50, x, 30);
		EXPECT_GT(p.truth().flow_lph, prev) << "opening " << x;
		prev = p.truth().flow_lph;
	}
}

TEST(SimPlant, VolumesAreExactIntegersWithoutDrift)
{
	auto c = test_config(3);
	c->plant.air_volume_ml = 0;
	c->plant.temp_drop_c = 0;       // same conditions in every meter ...
	c->plant.line_loss_kpa = 0;     // ... so they see the reference's volume
	c->plant.static_head_kpa = 0;
	Plant pl(c.get());
	pl.run(50, 40, 30);
	mtb_sim_truth a = pl.truth();
	// ten minutes in 600 000 steps of 1 ms and, in another plant, in one advance
	for (int i = 0; i < 600000; i++)
		mtb_sim_plant_advance(pl.p, 1000);
	mtb_sim_truth b = pl.truth();
	Plant pl2(c.get());
	pl2.run(50, 40, 30);
	mtb_sim_plant_advance(pl2.p, 600000000LL);
	mtb_sim_truth b2 = pl2.truth();
	double q = b.flow_lph;
	int64_t expect_ul = llround(q * 1e6 / 6);   // 10 min at q L/h
	EXPECT_NEAR((double)(b.ref_true_ul - a.ref_true_ul), (double)expect_ul, 2.0);
	EXPECT_NEAR((double)b2.ref_true_ul, (double)b.ref_true_ul, 2.0);
	for (int i = 0; i < 3; i++) {
		int64_t dv_true = b.meters[i].true_ul - a.meters[i].true_ul;
		int64_t dv_ind = b.meters[i].indicated_ul - a.meters[i].indicated_ul;
		double e = mtb_sim_curve_error_pct(&c->meters[i].true_error, b.meters[i].flow_lph) / 100;
		// indicated = true x (1 + e), to the microlitre (remainders carried)
		EXPECT_NEAR((double)dv_ind, (double)dv_true * (1 + e), 2.0) << i;
		EXPECT_NEAR((double)dv_true, (double)(b.ref_true_ul - a.ref_true_ul), 2.0);
	}
}

TEST(SimPlant, ReferenceErrorIsCertificatePlusDeviationWithinU)
{
	auto c = test_config(1);
	c->plant.air_volume_ml = 0;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		c->seed = seed;
		Plant pl(c.get());
		pl.run(50, 40, 20);
		mtb_sim_truth a = pl.truth();
		mtb_sim_plant_advance(pl.p, 600000000);
		mtb_sim_truth b = pl.truth();
		double q = b.flow_lph;
		double e = (double)(b.ref_indicated_ul - a.ref_indicated_ul) / (double)(b.ref_true_ul - a.ref_true_ul) - 1;
		double cert = mtb_sim_curve_error_pct(&c->reference_curve, q) / 100;
		double u = mtb_sim_curve_u_pct(&c->reference_curve, q) / 100;
		EXPECT_LE(std::fabs(e - cert), 0.5 * u + 1e-7) << "seed " << seed;
		EXPECT_NEAR(e * 100, b.ref_error_pct, 1e-5);
	}
	// fixed deviation from the configuration
	c->has_reference_deviation = true;
	c->reference_deviation = 0.0;
	Plant pl(c.get());
	pl.run(50, 40, 600);
	mtb_sim_truth t = pl.truth();
	EXPECT_NEAR((double)t.ref_indicated_ul / (double)t.ref_true_ul - 1,
		    mtb_sim_curve_error_pct(&c->reference_curve, t.flow_lph) / 100, 2e-6);
}

TEST(SimPlant, AirUnderRegistersUntilPurgedAtHighFlow)
{
	auto c = test_config(2);
	Plant pl(c.get());
	pl.run(50, 3, 120);   // low flow: the air stays
	mtb_sim_truth t = pl.truth();
	ASSERT_LT(t.flow_lph, c->plant.air_purge_flow_lph);
	EXPECT_DOUBLE_EQ(t.air_ml, c->plant.air_volume_ml);
	for (int i = 0; i < 2; i++) {
		double e = c->meters[i].true_error.pt[0].error_pct / 100;
		double got = (double)(t.meters[i].indicated_ul - t.meters[i].start_ul) / (double)t.meters[i].true_ul;
		EXPECT_LT(got, (1 + e) * (1 - 0.02)) << "meter " << i << " should under-register with air";
	}
	// purge: full opening, high flow for 30 s
	mtb_sim_plant_set_cv_pct(pl.p, 100);
	mtb_sim_plant_advance(pl.p, 30000000);
	EXPECT_EQ(pl.truth().air_ml, 0.0);
	mtb_sim_plant_set_cv_pct(pl.p, 3);
	mtb_sim_plant_advance(pl.p, 60000000);
	mtb_sim_truth a = pl.truth();
	mtb_sim_plant_advance(pl.p, 600000000);
	mtb_sim_truth b = pl.truth();
	for (int i = 0; i < 2; i++) {
		double e = mtb_sim_curve_error_pct(&c->meters[i].true_error, b.meters[i].flow_lph) / 100;
		double got = (double)(b.meters[i].indicated_ul - a.meters[i].indicated_ul) /
			     (double)(b.meters[i].true_ul - a.meters[i].true_ul);
		EXPECT_NEAR(got, 1 + e, 1e-5) << "meter " << i;
	}
}

TEST(SimPlant, InletValveEndSwitchesFollowTravelTime)
{
	auto c = test_config(1);
	Plant pl(c.get());
	EXPECT_TRUE(pl.read().inlet_is_closed);
	EXPECT_FALSE(pl.read().inlet_is_open);
	mtb_sim_plant_set_inlet_open(pl.p, true);
	mtb_sim_plant_advance(pl.p, 100000);
	EXPECT_FALSE(pl.read().inlet_is_closed);
	EXPECT_FALSE(pl.read().inlet_is_open);
	mtb_sim_plant_advance(pl.p, (int64_t)(c->plant.inlet_travel_s * 1e6) - 200000);
	EXPECT_FALSE(pl.read().inlet_is_open);
	mtb_sim_plant_advance(pl.p, 200000);
	EXPECT_TRUE(pl.read().inlet_is_open);
	EXPECT_TRUE(pl.read().inlet_open_cmd);
}

TEST(SimPlant, PressuresFollowTheHydraulics)
{
	auto c = test_config(1);
	c->plant.pressure_noise_kpa = 0;
	Plant pl(c.get());
	double base = c->plant.atmospheric_kpa + c->plant.static_head_kpa;
	EXPECT_DOUBLE_EQ(pl.read().p_inlet_kpa, base);
	pl.run(50, 0, 30);   // dead-headed against the closed control valve
	EXPECT_NEAR(pl.read().p_inlet_kpa, base + c->plant.pump_shutoff_head_kpa, 1e-6);
	mtb_sim_plant_set_cv_pct(pl.p, 50);
	mtb_sim_plant_advance(pl.p, 30000000);
	mtb_sim_readings r = pl.read();
	EXPECT_GT(r.p_inlet_kpa, r.p_outlet_kpa);
	EXPECT_GT(r.p_outlet_kpa, base);
	// line loss is quadratic: dp_line = k Q^2 with k from line_loss_kpa at line_loss_flow_lph
	double q = pl.truth().flow_lph;
	double k = c->plant.line_loss_kpa / (c->plant.line_loss_flow_lph * c->plant.line_loss_flow_lph);
	EXPECT_NEAR(r.p_inlet_kpa - r.p_outlet_kpa, k * q * q, 0.01 * k * q * q);
}

TEST(SimPlant, NoiseIsSeededAndReadingDoesNotChangeThePlant)
{
	auto c = test_config(1);
	Plant a(c.get()), b(c.get());
	a.run(50, 40, 10);
	b.run(50, 40, 10);
	mtb_sim_readings ra = a.read();
	for (int i = 0; i < 100; i++)
		a.read();
	mtb_sim_readings rb = b.read();
	EXPECT_EQ(ra.t_ref_c, rb.t_ref_c);
	EXPECT_EQ(ra.p_inlet_kpa, rb.p_inlet_kpa);
	EXPECT_EQ(ra.ref_flow_lph, rb.ref_flow_lph);
	EXPECT_NEAR(ra.t_ref_c, c->plant.water_temp_c, 6 * c->plant.temp_noise_c);
	EXPECT_NE(ra.t_ref_c, c->plant.water_temp_c);
	auto c2 = test_config(1, 8);
	Plant d(c2.get());
	d.run(50, 40, 10);
	EXPECT_NE(d.read().t_ref_c, ra.t_ref_c);
	// the noise has the configured spread: sample over 2000 intervals of 100 ms
	double s = 0, s2 = 0;
	for (int i = 0; i < 2000; i++) {
		mtb_sim_plant_advance(a.p, 100000);
		double x = a.read().t_ref_c - c->plant.water_temp_c;
		s += x;
		s2 += x * x;
	}
	double sd = std::sqrt(s2 / 2000 - (s / 2000) * (s / 2000));
	EXPECT_NEAR(sd, c->plant.temp_noise_c, 0.15 * c->plant.temp_noise_c);
}

TEST(SimPlant, SameConfigAndStepsGiveIdenticalTotals)
{
	auto c = test_config(10);
	mtb_sim_truth t[2];
	for (int k = 0; k < 2; k++) {
		Plant pl(c.get());
		pl.run(50, 100, 40);
		mtb_sim_plant_set_cv_pct(pl.p, 2.5);
		for (int i = 0; i < 500; i++)
			mtb_sim_plant_advance(pl.p, 123457);
		mtb_sim_plant_set_pump_hz(pl.p, 35);
		mtb_sim_plant_advance(pl.p, 777777777);
		t[k] = pl.truth();
	}
	EXPECT_EQ(t[0].ref_indicated_ul, t[1].ref_indicated_ul);
	for (int i = 0; i < 10; i++) {
		EXPECT_EQ(t[0].meters[i].indicated_ul, t[1].meters[i].indicated_ul);
		EXPECT_EQ(t[0].meters[i].true_ul, t[1].meters[i].true_ul);
	}
	// and another seed changes what depends on it
	auto c2 = test_config(10, 99);
	Plant pl(c2.get());
	pl.run(50, 100, 40);
	mtb_sim_plant_set_cv_pct(pl.p, 2.5);
	for (int i = 0; i < 500; i++)
		mtb_sim_plant_advance(pl.p, 123457);
	mtb_sim_plant_set_pump_hz(pl.p, 35);
	mtb_sim_plant_advance(pl.p, 777777777);
	EXPECT_NE(pl.truth().ref_indicated_ul, t[0].ref_indicated_ul);
}

TEST(SimPlant, StuckValveAndPumpTrip)
{
	auto c = test_config(1);
	mtb_sim_fault f = {};
	f.kind = MTB_SIM_FAULT_STUCK_VALVE;
	f.unit = 3;
	f.at_us = 0;
	f.duration_us = 20000000;
	f.count = -1;
	c->faults[c->n_faults++] = f;
	Plant pl(c.get());
	pl.run(50, 50, 10);
	EXPECT_EQ(pl.read().cv_pct, 0.0);      // stuck closed for 20 s
	EXPECT_EQ(pl.read().cv_set_pct, 50.0); // the set point was taken
	mtb_sim_plant_advance(pl.p, 15000000);
	EXPECT_EQ(pl.read().cv_pct, 50.0);     // freed at 20 s, 25 %/s
	mtb_sim_fault trip = {};
	trip.kind = MTB_SIM_FAULT_PUMP_TRIP;
	trip.unit = -1;
	trip.at_us = mtb_sim_plant_time_us(pl.p);
	trip.count = -1;
	ASSERT_EQ(mtb_sim_plant_fault_add(pl.p, &trip), MTB_OK);
	mtb_sim_plant_advance(pl.p, 60000000);
	EXPECT_TRUE(pl.read().pump_fault);
	EXPECT_EQ(pl.read().pump_hz, 0.0);
	EXPECT_EQ(pl.truth().flow_lph, 0.0);
	mtb_sim_plant_faults_clear(pl.p);
	mtb_sim_plant_advance(pl.p, 10000000);
	EXPECT_FALSE(pl.read().pump_fault);
	EXPECT_EQ(pl.read().pump_hz, 50.0);
}

TEST(SimPlant, RefusesCommandsOutOfRange)
{
	auto c = test_config(1);
	Plant pl(c.get());
	EXPECT_EQ(mtb_sim_plant_set_pump_hz(pl.p, 61), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_sim_plant_set_pump_hz(pl.p, -1), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_sim_plant_set_cv_pct(pl.p, 100.01), MTB_ERR_RANGE);
}

} // namespace

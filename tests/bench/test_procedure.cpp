#include "bench/pid.h"
#include "bench/procedure.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {
/* A first-order plant behind an equal-percentage valve (the usual flow-control valve: each % of
 * travel changes the flow by the same fraction, rangeability r): the steady flow is
 * q_max r^(x/100 - 1), reached with time constant tau. */
struct plant {
	double flow = 0, q_max, tau_s, r = 500;
	void step(double valve_pct, double dt_s)
	{
		double target = valve_pct <= 0 ? 0 : q_max * std::pow(r, valve_pct / 100 - 1);
		flow += (target - flow) * (dt_s / tau_s);
	}
};
} // namespace

TEST(Pid, SettlesWithinTheBandAndStaysThere)
{
	struct mtb_pid_params p = { 10.0, 2.0, 0.0, 0.0, 100.0 };
	for (double setpoint : { 16.4, 26.25, 2375.0 }) {
		plant pl{ 0, 3125.0, 1.5 };
		struct mtb_pid c;
		mtb_pid_init(&c, &p, 0);
		struct mtb_stability st;
		mtb_stability_init(&st, 5000000, setpoint < 25 ? 25000 : 50000);
		int64_t t = 0, stable_at = -1;
		for (int i = 0; i < 600; i++, t += 100000) {   /* 60 s in 0.1 s steps */
			double out = mtb_pid_step(&c, setpoint, pl.flow, t);
			pl.step(out, 0.1);
			mtb_stability_add(&st, t, pl.flow);
			if (stable_at < 0 && mtb_stability_ok(&st, setpoint, t))
				stable_at = t;
		}
		EXPECT_NEAR(pl.flow, setpoint, setpoint * 0.001) << setpoint;
		EXPECT_GT(stable_at, 5000000) << "stability needs a full window of samples";
		EXPECT_LT(stable_at, 40000000) << setpoint;
	}
}

TEST(Pid, OutputStaysInRangeAndRecoversFromSaturation)
{
	struct mtb_pid_params p = { 10.0, 2.0, 0.2, 0.0, 100.0 };
	plant pl{ 0, 1000.0, 1.0 };   /* the valve fully open gives 1000 L/h */
	struct mtb_pid c;
	mtb_pid_init(&c, &p, 0);
	int64_t t = 0;
	for (int i = 0; i < 200; i++, t += 100000) {   /* asks for more than the plant can give */
		double out = mtb_pid_step(&c, 5000, pl.flow, t);
		EXPECT_LE(out, 100.0);
		EXPECT_GE(out, 0.0);
		pl.step(out, 0.1);
	}
	EXPECT_NEAR(c.out, 100.0, 1e-9);
	/* Back to a reachable set point: without windup the flow is there within a few seconds. */
	double max_flow = 0;
	for (int i = 0; i < 300; i++, t += 100000) {
		double out = mtb_pid_step(&c, 500, pl.flow, t);
		pl.step(out, 0.1);
		if (i > 50)
			max_flow = std::max(max_flow, pl.flow);
	}
	EXPECT_NEAR(pl.flow, 500, 1);
	EXPECT_LT(max_flow, 530);
}

TEST(Stability, NeedsTheWholeWindowInsideTheBand)
{
	struct mtb_stability s;
	mtb_stability_init(&s, 2000000, 25000);   /* 2 s, +-2.5 % */
	for (int64_t t = 0; t <= 1900000; t += 100000)
		mtb_stability_add(&s, t, 100.0);
	EXPECT_FALSE(mtb_stability_ok(&s, 100.0, 1900000));   /* window not yet covered */
	mtb_stability_add(&s, 2100000, 102.4);
	EXPECT_TRUE(mtb_stability_ok(&s, 100.0, 2100000));
	mtb_stability_add(&s, 2200000, 102.6);                  /* one sample outside +-2.5 % */
	EXPECT_FALSE(mtb_stability_ok(&s, 100.0, 2200000));
	for (int64_t t = 2300000; t <= 4300000; t += 100000)
		mtb_stability_add(&s, t, 97.6);
	EXPECT_TRUE(mtb_stability_ok(&s, 100.0, 4300000));      /* the bad sample left the window */
	mtb_stability_reset(&s);
	EXPECT_FALSE(mtb_stability_ok(&s, 100.0, 4300000));
}

TEST(FlyingStart, InterpolatesTheTotaliserAtTheFrameInstant)
{
	/* 2500 L/h = 694.444 uL/ms; samples every 100 ms. */
	struct mtb_ref_sample s[] = { { 1000000, 5000000 }, { 1100000, 5069444 }, { 1200000, 5138889 } };
	int64_t tot, gap;
	ASSERT_EQ(mtb_flying_interpolate(s, 3, 1150000, 200000, &tot, &gap), MTB_OK);
	EXPECT_EQ(tot, 5104167);   /* 5069444 + 69445/2 = 5104166.5 -> half away from zero */
	EXPECT_EQ(gap, 100000);
	ASSERT_EQ(mtb_flying_interpolate(s, 3, 1100000, 200000, &tot, &gap), MTB_OK);
	EXPECT_EQ(tot, 5069444);
	EXPECT_EQ(gap, 0);
	ASSERT_EQ(mtb_flying_interpolate(s, 3, 1000001, 200000, &tot, &gap), MTB_OK);
	EXPECT_EQ(tot, 5000001);   /* 694.44 uL/ms x 0.001 ms = 0.69 uL -> 1 */
}

TEST(FlyingStart, RefusesToExtrapolateOrBridgeAGap)
{
	struct mtb_ref_sample s[] = { { 1000000, 0 }, { 1100000, 100 }, { 3000000, 2000 } };
	int64_t tot, gap;
	EXPECT_EQ(mtb_flying_interpolate(s, 3, 999999, 200000, &tot, &gap), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_flying_interpolate(s, 3, 3000001, 200000, &tot, &gap), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_flying_interpolate(s, 3, 2000000, 200000, &tot, &gap), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_flying_interpolate(s, 0, 1000000, 200000, &tot, &gap), MTB_ERR_RANGE);
}

TEST(TestVolume, FromTheReadingResolution)
{
	int limited;
	/* Camera reading a 0.05 L pointer division to a tenth: 0.005 L. Lower zone MPE 5 %:
	 * V >= 20 x 0.005 / (sqrt 6 x 0.05) = 0.8165 L. */
	EXPECT_NEAR(mtb_test_volume_l(0.005, 50000, 0.5, 20, &limited), 0.8165, 0.0001);
	EXPECT_EQ(limited, 0);
	/* The same dial read to half a division by eye (0.025 L): 4.08 L, five times more water. */
	EXPECT_NEAR(mtb_test_volume_l(0.025, 50000, 0.5, 20, &limited), 4.0825, 0.0001);
	/* Upper zone 2 %: 2.04 L at camera resolution, raised to the plan's 10 L minimum. */
	EXPECT_DOUBLE_EQ(mtb_test_volume_l(0.005, 20000, 10, 200, &limited), 10.0);
	/* A coarse reading the plan cannot accommodate: clamped and flagged. */
	EXPECT_DOUBLE_EQ(mtb_test_volume_l(1.0, 20000, 10, 200, &limited), 200.0);
	EXPECT_EQ(limited, 1);
}

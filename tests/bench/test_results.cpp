/* The results engine on worked examples (standards-factsheet 1.1-1.8), computed by hand. */
#include "bench/results.h"

#include <gtest/gtest.h>

namespace {
struct point {
	int cls = 2;
	double flow_lph;
	int64_t actual_ul, indicated_ul;
	int32_t temp_mdegc = 20000;
	enum mtb_mode mode = MTB_MODE_VERIFICATION;
	int32_t u_ppm = -1;
	const char *rules = "r49-2013";
};

struct mtb_point_out judge(const point &p)
{
	struct mtb_point_in in = {};
	in.rules = mtb_rule_set_find(p.rules);
	in.accuracy_class = p.cls;
	EXPECT_EQ(mtb_flow_range_make(2.5, 160, 1.6, 1.25, &in.flow_range), MTB_OK);
	in.mode = p.mode;
	in.flow_lph = p.flow_lph;
	in.actual_ul = p.actual_ul;
	in.indicated_ul = p.indicated_ul;
	in.water_temp_mdegc = p.temp_mdegc;
	in.u_exp_ppm = p.u_ppm;
	struct mtb_point_out out = {};
	EXPECT_EQ(mtb_point_judge(&in, &out), MTB_OK);
	return out;
}
} // namespace

TEST(Results, ContractExampleAt20Lph)
{
	/* 10.30 L indicated for 10.00 L actual: E = 0.30/10.00 = +3.0 %; 20 L/h is in the lower
	 * zone (15.625 <= 20 < 25), MPE 5 % -> pass. */
	auto o = judge({ .flow_lph = 20, .actual_ul = 10000000, .indicated_ul = 10300000 });
	EXPECT_EQ(o.zone, MTB_ZONE_LOWER);
	EXPECT_EQ(o.error_ppm, 30000);
	EXPECT_EQ(o.mpe_ppm, 50000);
	EXPECT_EQ(o.verdict, MTB_VERDICT_PASS);
}

TEST(Results, AtQ1ErrorExactlyAtTheMpePasses)
{
	/* Q1 = 15.625 L/h. 10.5 L for 10 L is exactly +5 %: passes; one microlitre more fails. */
	EXPECT_EQ(judge({ .flow_lph = 15.625, .actual_ul = 10000000, .indicated_ul = 10500000 }).verdict, MTB_VERDICT_PASS);
	EXPECT_EQ(judge({ .flow_lph = 15.625, .actual_ul = 10000000, .indicated_ul = 10500001 }).verdict, MTB_VERDICT_FAIL);
	EXPECT_EQ(judge({ .flow_lph = 15.625, .actual_ul = 10000000, .indicated_ul = 9500000 }).verdict, MTB_VERDICT_PASS);
	EXPECT_EQ(judge({ .flow_lph = 15.625, .actual_ul = 10000000, .indicated_ul = 9499999 }).verdict, MTB_VERDICT_FAIL);
}

TEST(Results, AtQ2TheUpperZoneApplies)
{
	/* +3 % at Q2 = 25 L/h: upper zone, 2 % -> fail; at 24.99 L/h: lower zone, 5 % -> pass. */
	auto at_q2 = judge({ .flow_lph = 25.0, .actual_ul = 20000000, .indicated_ul = 20600000 });
	EXPECT_EQ(at_q2.zone, MTB_ZONE_UPPER);
	EXPECT_EQ(at_q2.verdict, MTB_VERDICT_FAIL);
	auto below = judge({ .flow_lph = 24.99, .actual_ul = 20000000, .indicated_ul = 20600000 });
	EXPECT_EQ(below.zone, MTB_ZONE_LOWER);
	EXPECT_EQ(below.verdict, MTB_VERDICT_PASS);
}

TEST(Results, AtQ4AndBeyond)
{
	/* Q4 = 3125 L/h: 100 L for 98.04 L actual: E = 1.96/98.04 = 1.99918 % -> pass. */
	auto q4 = judge({ .flow_lph = 3125, .actual_ul = 98040000, .indicated_ul = 100000000 });
	EXPECT_EQ(q4.zone, MTB_ZONE_UPPER);
	EXPECT_EQ(q4.error_ppm, 19992);
	EXPECT_EQ(q4.verdict, MTB_VERDICT_PASS);
	auto over = judge({ .flow_lph = 3125.5, .actual_ul = 100000000, .indicated_ul = 100000000 });
	EXPECT_EQ(over.verdict, MTB_VERDICT_OUT_OF_RANGE);
	EXPECT_EQ(over.mpe_ppm, 0);
	EXPECT_EQ(judge({ .flow_lph = 15.6, .actual_ul = 1000000, .indicated_ul = 1000000 }).verdict, MTB_VERDICT_OUT_OF_RANGE);
}

TEST(Results, Class1AgainstClass2)
{
	/* +1.5 % at Q3: class 1 (1 %) fails, class 2 (2 %) passes. -4 % at Q1: class 1 (3 %)
	 * fails, class 2 (5 %) passes. */
	EXPECT_EQ(judge({ .cls = 1, .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 101500000 }).verdict, MTB_VERDICT_FAIL);
	EXPECT_EQ(judge({ .cls = 2, .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 101500000 }).verdict, MTB_VERDICT_PASS);
	EXPECT_EQ(judge({ .cls = 1, .flow_lph = 16, .actual_ul = 10000000, .indicated_ul = 9600000 }).verdict, MTB_VERDICT_FAIL);
	EXPECT_EQ(judge({ .cls = 2, .flow_lph = 16, .actual_ul = 10000000, .indicated_ul = 9600000 }).verdict, MTB_VERDICT_PASS);
}

TEST(Results, WaterAbove30C)
{
	/* +2.5 % at Q3, class 2: fails at 30 C (2 %), passes at 30.5 C (3 %). */
	EXPECT_EQ(judge({ .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 102500000, .temp_mdegc = 30000 }).verdict, MTB_VERDICT_FAIL);
	EXPECT_EQ(judge({ .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 102500000, .temp_mdegc = 30500 }).verdict, MTB_VERDICT_PASS);
}

TEST(Results, InServiceDoubling)
{
	/* -7 % at Q1: fails verification (5 %), passes in service (10 %). +4 % at Q3: fails
	 * verification (2 %), exactly at the in-service MPE (4 %) -> pass. */
	EXPECT_EQ(judge({ .flow_lph = 16, .actual_ul = 10000000, .indicated_ul = 9300000 }).verdict, MTB_VERDICT_FAIL);
	EXPECT_EQ(judge({ .flow_lph = 16, .actual_ul = 10000000, .indicated_ul = 9300000, .mode = MTB_MODE_IN_SERVICE }).verdict, MTB_VERDICT_PASS);
	auto up = judge({ .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 104000000, .mode = MTB_MODE_IN_SERVICE });
	EXPECT_EQ(up.mpe_ppm, 40000);
	EXPECT_EQ(up.verdict, MTB_VERDICT_PASS);
}

TEST(Results, UncertaintyAboveAThirdOfTheMpeIsInvalidNeverPass)
{
	/* Upper zone MPE 2 %: U = 0.6666 % passes the 1/3 test (3 x 6666 = 19998 <= 20000),
	 * U = 0.6667 % does not (20001 > 20000), even for a perfect meter. */
	EXPECT_EQ(judge({ .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 100000000, .u_ppm = 6666 }).verdict, MTB_VERDICT_PASS);
	EXPECT_EQ(judge({ .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 100000000, .u_ppm = 6667 }).verdict, MTB_VERDICT_INVALID);
	EXPECT_EQ(judge({ .flow_lph = 2500, .actual_ul = 100000000, .indicated_ul = 110000000, .u_ppm = 7000 }).verdict, MTB_VERDICT_INVALID);
	/* Lower zone MPE 5 %: 1/3 is 1.6667 %. */
	EXPECT_EQ(judge({ .flow_lph = 20, .actual_ul = 10000000, .indicated_ul = 10300000, .u_ppm = 16666 }).verdict, MTB_VERDICT_PASS);
	EXPECT_EQ(judge({ .flow_lph = 20, .actual_ul = 10000000, .indicated_ul = 10300000, .u_ppm = 16667 }).verdict, MTB_VERDICT_INVALID);
}

TEST(Results, ErrorIsRoundedHalfAwayFromZeroForDisplayOnly)
{
	/* 1 uL over 3 L: 0.333 ppm -> 0 ppm displayed, but the verdict uses the exact values. */
	auto o = judge({ .flow_lph = 2500, .actual_ul = 3000000, .indicated_ul = 3000001 });
	EXPECT_EQ(o.error_ppm, 0);
	/* 2/3 L over 1 L in the upper zone: 666 666.67 ppm -> 666 667. */
	EXPECT_EQ(judge({ .flow_lph = 2500, .actual_ul = 3000000, .indicated_ul = 5000000 }).error_ppm, 666667);
	EXPECT_EQ(judge({ .flow_lph = 2500, .actual_ul = 3000000, .indicated_ul = 1000000 }).error_ppm, -666667);
}

TEST(Results, RejectsImpossibleInputs)
{
	struct mtb_point_in in = {};
	struct mtb_point_out out;
	in.rules = mtb_rule_set_find("r49-2024");
	in.accuracy_class = 2;
	ASSERT_EQ(mtb_flow_range_make(2.5, 160, 1.6, 1.25, &in.flow_range), MTB_OK);
	in.flow_lph = 20;
	in.indicated_ul = 1;
	in.actual_ul = 0;
	EXPECT_EQ(mtb_point_judge(&in, &out), MTB_ERR_ARG);
	in.actual_ul = 1;
	in.indicated_ul = -1;
	EXPECT_EQ(mtb_point_judge(&in, &out), MTB_ERR_ARG);
	in.indicated_ul = MTB_VOLUME_MAX_UL + 1;
	EXPECT_EQ(mtb_point_judge(&in, &out), MTB_ERR_ARG);
	in.indicated_ul = 1;
	in.accuracy_class = 0;
	EXPECT_EQ(mtb_point_judge(&in, &out), MTB_ERR_ARG);
	in.accuracy_class = 2;
	in.rules = nullptr;
	EXPECT_EQ(mtb_point_judge(&in, &out), MTB_ERR_ARG);
}

TEST(Results, LargestVolumesDoNotOverflow)
{
	auto o = judge({ .flow_lph = 2500, .actual_ul = MTB_VOLUME_MAX_UL / 2, .indicated_ul = MTB_VOLUME_MAX_UL / 100 * 51 });
	EXPECT_EQ(o.error_ppm, 20000);
	EXPECT_EQ(o.verdict, MTB_VERDICT_PASS);
}

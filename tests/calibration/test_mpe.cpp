/* Worked examples computed by hand from standards-factsheet 1.1-1.5. */
#include "calibration/mpe.h"

#include <gtest/gtest.h>

namespace {
const struct mtb_rule_set *r2013() { return mtb_rule_set_find("r49-2013"); }

struct mtb_flow_range dn15_r160()
{
	struct mtb_flow_range r;
	EXPECT_EQ(mtb_flow_range_make(2.5, 160, 1.6, 1.25, &r), MTB_OK);
	return r;
}

int32_t mpe(int cls, enum mtb_zone z, int32_t temp_mdegc = 20000, enum mtb_mode m = MTB_MODE_VERIFICATION,
	    const struct mtb_in_service *is = nullptr)
{
	int32_t v = -1;
	EXPECT_EQ(mtb_mpe_ppm(r2013(), cls, z, temp_mdegc, m, is, &v), MTB_OK);
	return v;
}
} // namespace

TEST(FlowRange, Dn15R160FromTheFactsheet)
{
	/* Q1 = 2500/160 = 15.625 L/h, Q2 = 1.6 Q1 = 25 L/h, Q4 = 1.25 x 2500 = 3125 L/h. */
	struct mtb_flow_range r = dn15_r160();
	EXPECT_DOUBLE_EQ(r.q1_lph, 15.625);
	EXPECT_DOUBLE_EQ(r.q2_lph, 25.0);
	EXPECT_DOUBLE_EQ(r.q3_lph, 2500.0);
	EXPECT_DOUBLE_EQ(r.q4_lph, 3125.0);
}

TEST(FlowRange, RejectsImpossibleRatios)
{
	struct mtb_flow_range r;
	EXPECT_EQ(mtb_flow_range_make(-2.5, 160, 1.6, 1.25, &r), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_flow_range_make(2.5, 0, 1.6, 1.25, &r), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_flow_range_make(2.5, 1.5, 1.6, 1.25, &r), MTB_ERR_RANGE);   /* Q2 above Q3 */
	EXPECT_EQ(mtb_flow_range_make(2.5, 160, 0.9, 1.25, &r), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_flow_range_make(2.5, 160, 1.6, 0.5, &r), MTB_ERR_RANGE);
}

TEST(Zone, EachSideOfEachBoundary)
{
	struct mtb_flow_range r = dn15_r160();
	EXPECT_EQ(mtb_zone_of(&r, 15.62), MTB_ZONE_OUT_OF_RANGE);   /* just below Q1 */
	EXPECT_EQ(mtb_zone_of(&r, 15.625), MTB_ZONE_LOWER);         /* Q1 itself */
	EXPECT_EQ(mtb_zone_of(&r, 24.99), MTB_ZONE_LOWER);          /* just below Q2 */
	EXPECT_EQ(mtb_zone_of(&r, 25.0), MTB_ZONE_UPPER);           /* Q2 belongs to the upper zone */
	EXPECT_EQ(mtb_zone_of(&r, 3125.0), MTB_ZONE_UPPER);         /* Q4 itself */
	EXPECT_EQ(mtb_zone_of(&r, 3125.01), MTB_ZONE_OUT_OF_RANGE); /* just above Q4 */
	EXPECT_EQ(mtb_zone_of(&r, 0.0), MTB_ZONE_OUT_OF_RANGE);
	EXPECT_EQ(mtb_zone_of(&r, 0.0 / 0.0), MTB_ZONE_OUT_OF_RANGE);
}

TEST(Zone, DecimalBoundaryComputedInexactlyStillLandsRight)
{
	/* R 12.5, Q3 1.6: Q1 = 128 L/h, Q2 = 204.8 L/h; in binary Q3*1.6/12.5 is not exact. */
	struct mtb_flow_range r;
	ASSERT_EQ(mtb_flow_range_make(1.6, 12.5, 1.6, 1.25, &r), MTB_OK);
	EXPECT_EQ(mtb_zone_of(&r, 204.8), MTB_ZONE_UPPER);
	EXPECT_EQ(mtb_zone_of(&r, 204.79), MTB_ZONE_LOWER);
	EXPECT_EQ(mtb_zone_of(&r, 128.0), MTB_ZONE_LOWER);
}

TEST(Mpe, Class2And1ByZone)
{
	EXPECT_EQ(mpe(2, MTB_ZONE_LOWER), 50000);
	EXPECT_EQ(mpe(2, MTB_ZONE_UPPER), 20000);
	EXPECT_EQ(mpe(1, MTB_ZONE_LOWER), 30000);
	EXPECT_EQ(mpe(1, MTB_ZONE_UPPER), 10000);
}

TEST(Mpe, WaterAbove30CWidensOnlyTheUpperZone)
{
	EXPECT_EQ(mpe(2, MTB_ZONE_UPPER, 30000), 20000);   /* 30.000 C is still in the 0.1-30 C band */
	EXPECT_EQ(mpe(2, MTB_ZONE_UPPER, 30001), 30000);
	EXPECT_EQ(mpe(1, MTB_ZONE_UPPER, 50000), 20000);
	EXPECT_EQ(mpe(2, MTB_ZONE_LOWER, 50000), 50000);
	EXPECT_EQ(mpe(1, MTB_ZONE_LOWER, 50000), 30000);
}

TEST(Mpe, InServiceDoublesByDefault)
{
	EXPECT_EQ(mpe(2, MTB_ZONE_LOWER, 20000, MTB_MODE_IN_SERVICE), 100000);
	EXPECT_EQ(mpe(2, MTB_ZONE_UPPER, 20000, MTB_MODE_IN_SERVICE), 40000);
	EXPECT_EQ(mpe(1, MTB_ZONE_UPPER, 40000, MTB_MODE_IN_SERVICE), 40000);
}

TEST(Mpe, InServiceFromAJurisdictionFile)
{
	struct mtb_in_service fr;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_in_service_load(MTB_SOURCE_DIR "/configs/jurisdictions/fr.yaml", &fr, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(mpe(2, MTB_ZONE_LOWER, 20000, MTB_MODE_IN_SERVICE, &fr), 40000);
	EXPECT_EQ(mpe(2, MTB_ZONE_UPPER, 20000, MTB_MODE_IN_SERVICE, &fr), 40000);
	/* The verification MPE is untouched by the jurisdiction. */
	EXPECT_EQ(mpe(2, MTB_ZONE_LOWER, 20000, MTB_MODE_VERIFICATION, &fr), 50000);
}

TEST(Mpe, RefusesBadClassAndOutOfRange)
{
	int32_t v;
	EXPECT_EQ(mtb_mpe_ppm(r2013(), 3, MTB_ZONE_LOWER, 20000, MTB_MODE_VERIFICATION, nullptr, &v), MTB_ERR_ARG);
	EXPECT_EQ(mtb_mpe_ppm(r2013(), 2, MTB_ZONE_OUT_OF_RANGE, 20000, MTB_MODE_VERIFICATION, nullptr, &v), MTB_ERR_ARG);
	EXPECT_EQ(mtb_rule_set_find("r49-2006"), nullptr);
}

TEST(Mpe, SameSignRuleOnlyIn2013)
{
	const struct mtb_rule_set *r2024 = mtb_rule_set_find("r49-2024");
	ASSERT_NE(r2024, nullptr);
	int64_t errs[] = { 30000, 15000, 12000 };       /* all positive, none <= MPE/2 */
	int32_t mpes[] = { 50000, 20000, 20000 };
	EXPECT_FALSE(mtb_same_sign_rule_ok(r2013(), errs, mpes, 3));
	EXPECT_TRUE(mtb_same_sign_rule_ok(r2024, errs, mpes, 3));
	errs[2] = 10000;                                /* exactly MPE/2 satisfies it */
	EXPECT_TRUE(mtb_same_sign_rule_ok(r2013(), errs, mpes, 3));
	int64_t mixed[] = { 30000, -15000, 12000 };
	EXPECT_TRUE(mtb_same_sign_rule_ok(r2013(), mixed, mpes, 3));
}

// Can plans: the shipped plan, detection of `kind: can`, and errors naming line and field.
#include "bench/can_plan.h"
#include "core/yaml_load.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

TEST(CanPlan, ShippedPlanLoads)
{
	char *buf = nullptr;
	size_t len = 0;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_file_read(MTB_SOURCE_DIR "/configs/plans/can-20l-sim.yaml", 1 << 20, &buf, &len, &eb), MTB_OK) << eb.msg;
	EXPECT_TRUE(mtb_can_plan_detect(buf, len));
	mtb_can_plan_file p;
	ASSERT_EQ(mtb_can_plan_parse(buf, len, "can-20l-sim.yaml", &p, &eb), MTB_OK) << eb.msg;
	std::free(buf);
	EXPECT_STREQ(p.vessel_name, "can-20l-ss304-td");
	EXPECT_STREQ(p.serial, "SIM-CAN-0001");
	EXPECT_EQ(p.plan.runs, 3);
	EXPECT_DOUBLE_EQ(p.plan.settle_s, 30);
	EXPECT_DOUBLE_EQ(p.plan.u.balance_u_mg, 100);
	EXPECT_DOUBLE_EQ(p.plan.u.reading_u_div, 0.03);
	EXPECT_DOUBLE_EQ(p.plan.u.drain_u_ul, 100);
	EXPECT_DOUBLE_EQ(p.plan.u.rho_weights_kgm3, 8000);   // the default stays
	EXPECT_DOUBLE_EQ(p.plan.topup_tolerance_div, 0.1);
}

TEST(CanPlan, DetectsOnlyATopLevelKindCan)
{
	auto d = [](const char *s) { return mtb_can_plan_detect(s, std::strlen(s)); };
	EXPECT_TRUE(d("name: a\nkind: can\n"));
	EXPECT_TRUE(d("kind: can   # a can plan\n"));
	EXPECT_TRUE(d("kind: 'can'\n"));
	EXPECT_FALSE(d("kind: cans\n"));
	EXPECT_FALSE(d("name: a\nmeters:\n  - kind: can\n"));
	EXPECT_FALSE(d("name: demo\ntype: dn15\n"));
	EXPECT_FALSE(d(""));
}

TEST(CanPlan, ErrorsNameLineAndField)
{
	struct {
		const char *yaml, *want;
	} cases[] = {
		{ "kind: can\nname: a\nvessel: v\nserial: s\nruns: 0\n", "p.yaml: line 5: field 'runs': must be within 1-32, got 0" },
		{ "kind: can\nname: a\nvessel: v\nserial: s\nsettle_s: 3x\n", "p.yaml: line 5: field 'settle_s': not a number: '3x'" },
		{ "kind: can\nname: a\nvessel: v\nserial: s\nuncertainty:\n  gamma_rel: 2\n",
		  "p.yaml: line 6: field 'uncertainty.gamma_rel': must be within 0-1, got 2" },
		{ "kind: can\nname: a\nvessel: v\nserial: s\nair_saturated_water: maybe\n",
		  "line 5: field 'air_saturated_water': must be true or false" },
		{ "kind: meter\nname: a\nvessel: v\nserial: s\n", "line 1: field 'kind': must be 'can'" },
		{ "kind: can\nname: a\nvessel: v\n", "serial" },
		{ "kind: can\nname: a\nvessel: v\nserial: s\ncolour: red\n", "colour" },
		{ "kind: can\nname: a\nvessel: v\nserial: s\ntopup_tolerance_div: -1\n",
		  "line 5: field 'topup_tolerance_div': must be within 0-5, got -1" },
	};
	for (const auto &k : cases) {
		mtb_can_plan_file p;
		mtb_errbuf eb = {};
		EXPECT_NE(mtb_can_plan_parse(k.yaml, std::strlen(k.yaml), "p.yaml", &p, &eb), MTB_OK) << k.yaml;
		EXPECT_NE(std::strstr(eb.msg, k.want), nullptr) << "got: " << eb.msg << "\nwant: " << k.want;
	}
}

}  // namespace

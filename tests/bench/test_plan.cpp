#include "bench/plan.h"

#include <gtest/gtest.h>

#include <string>

namespace {
const std::string MIN = "name: p\nmeter_type: dn15-r160-c2\nstandard: r49-2024\nmode: verification\n"
			"meters:\n  - { position: 1, serial: A1 }\n  - { position: 2, serial: A2 }\n";

std::string error_of(const std::string &text)
{
	struct mtb_plan p;
	struct mtb_errbuf eb = {};
	EXPECT_NE(mtb_plan_parse(text.data(), text.size(), "plan.yaml", &p, &eb), MTB_OK) << text;
	return eb.msg;
}

std::string replace(std::string s, const std::string &from, const std::string &to)
{
	size_t at = s.find(from);
	EXPECT_NE(at, std::string::npos) << from;
	return s.replace(at, from.size(), to);
}

#define EXPECT_HAS(haystack, needle) EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << haystack
} // namespace

TEST(Plan, DemoPlanLoadsWithItsThreePoints)
{
	struct mtb_plan p;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_plan_load("demo", &p, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(p.n_meters, 10);
	EXPECT_EQ(p.n_points, 3);
	EXPECT_STREQ(p.rules->name, "r49-2013");
	EXPECT_EQ(p.start, MTB_START_FLYING);
	/* Q1 = 15.625 L/h: the point runs between Q1 and 1.1 Q1, set point in the middle. */
	EXPECT_DOUBLE_EQ(p.points[0].min_lph, 15.625);
	EXPECT_DOUBLE_EQ(p.points[0].max_lph, 15.625 * 1.1);
	EXPECT_DOUBLE_EQ(p.points[0].flow_lph, 15.625 * 1.05);
	EXPECT_DOUBLE_EQ(p.points[2].min_lph, 2250.0);
	EXPECT_DOUBLE_EQ(p.points[2].max_lph, 2500.0);
}

TEST(Plan, DefaultsWhenPointsAreOmitted)
{
	struct mtb_plan p;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_plan_parse(MIN.data(), MIN.size(), "plan.yaml", &p, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(p.n_points, 3);
	EXPECT_STREQ(p.points[1].name, "Q2");
	EXPECT_DOUBLE_EQ(p.points[1].min_lph, 25.0);
	EXPECT_DOUBLE_EQ(p.points[1].max_lph, 27.5);
	EXPECT_DOUBLE_EQ(p.points[0].min_volume_l, 0.5);
	EXPECT_DOUBLE_EQ(p.points[2].max_volume_l, 200);
	EXPECT_STREQ(p.jurisdiction, "default");
	EXPECT_EQ(mtb_plan_mpe_mode(&p), MTB_MODE_VERIFICATION);
}

TEST(Plan, DisputePlanCarriesBothPartiesAndInServiceLimits)
{
	struct mtb_plan p;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_plan_load("dispute-example", &p, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(p.mode, MTB_PLAN_DISPUTE);
	EXPECT_EQ(mtb_plan_mpe_mode(&p), MTB_MODE_IN_SERVICE);
	EXPECT_STREQ(p.jurisdiction, "tw");
	EXPECT_STREQ(p.case_number, "BSMI-TC-2026-0815");
	EXPECT_HAS(p.customer, "王小明");
}

TEST(Plan, MalformedPlansNameTheField)
{
	EXPECT_HAS(error_of(replace(MIN, "dn15-r160-c2", "dn99")), "field 'meter_type': no types named 'dn99'");
	EXPECT_HAS(error_of(replace(MIN, "r49-2024", "oiml")), "line 3: field 'standard': unknown rule set 'oiml'");
	EXPECT_HAS(error_of(replace(MIN, "mode: verification", "mode: audit")), "field 'mode': must be verification, in-service or dispute");
	EXPECT_HAS(error_of(replace(MIN, "position: 2", "position: 1")), "position 1 is already taken by A1");
	EXPECT_HAS(error_of(replace(MIN, "serial: A2", "serial: A1")), "serial A1 appears twice");
	EXPECT_HAS(error_of(replace(MIN, "position: 2", "position: two")), "meter 2: must be an integer 1-32, got 'two'");
	EXPECT_HAS(error_of(replace(MIN, "position: 2", "position: 0")), "meter 2: must be an integer");
	EXPECT_HAS(error_of(MIN + "start: rolling\n"), "field 'start': must be flying or standing");
	EXPECT_HAS(error_of(MIN + "points:\n  - { name: X, base: q5, from: 1, to: 1.1 }\n"), "point X: must be q1, q2, q3 or q4");
	EXPECT_HAS(error_of(MIN + "points:\n  - { name: X, base: q1, from: 1.2, to: 1.1 }\n"), "field 'to': point X: must be a number >= from");
	EXPECT_HAS(error_of(MIN + "points:\n  - { name: X, base: q1, from: 0.5, to: 1.1 }\n"), "lies outside Q1-Q4");
	EXPECT_HAS(error_of(MIN + "points:\n  - { name: X, base: q4, from: 1, to: 1.2 }\n"), "lies outside Q1-Q4");
	EXPECT_HAS(error_of(MIN + "points:\n  - { name: X, base: q1, from: 1, to: 1.1, max_volume_l: -3 }\n"), "max_volume_l");
	EXPECT_HAS(error_of(MIN + "points:\n  - { name: X, base: q1, from: 1, to: 1.1 }\n  - { name: X, base: q2, from: 1, to: 1.1 }\n"), "point name X appears twice");
	EXPECT_HAS(error_of(replace(MIN, "mode: verification", "mode: dispute")), "a dispute plan needs customer");
	EXPECT_HAS(error_of(MIN + "dispute: { customer: a, utility: b, case_number: c }\n"), "only a plan with mode: dispute");
	EXPECT_HAS(error_of(replace(MIN, "meters:\n  - { position: 1, serial: A1 }\n  - { position: 2, serial: A2 }\n", "meters: []\n")), "plan.yaml");
	EXPECT_HAS(error_of(MIN + "colour: blue\n"), "unknown field 'colour'");
	EXPECT_HAS(error_of(""), "file is empty");
}

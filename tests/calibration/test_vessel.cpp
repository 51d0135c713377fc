#include "calibration/vessel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace {
std::string read(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

const std::string CAN20 = read(MTB_SOURCE_DIR "/configs/vessels/can-20l-ss304-td.yaml");
const std::string CYL100 = read(MTB_SOURCE_DIR "/configs/vessels/cyl-100ml-a.yaml");

/* Replaces the first line whose key (after indentation) is `key` by `replacement`, keeping
 * the indentation; an empty replacement deletes the line. (Plain string search: std::regex
 * trips a false -Wmaybe-uninitialized of GCC 12 in the sanitizer build.) */
std::string with(std::string text, const std::string &key, const std::string &replacement)
{
	size_t at = 0;
	for (;;) {
		at = text.find(key + ":", at);
		if (at == std::string::npos) {
			ADD_FAILURE() << key;
			return text;
		}
		size_t bol = text.rfind('\n', at);
		bol = bol == std::string::npos ? 0 : bol + 1;
		if (text.find_first_not_of(' ', bol) == at)
			break;
		at++;
	}
	size_t bol = text.rfind('\n', at);
	bol = bol == std::string::npos ? 0 : bol + 1;
	size_t eol = text.find('\n', at);
	if (eol == std::string::npos)
		eol = text.size();
	std::string indent = text.substr(bol, at - bol);
	if (replacement.empty())
		return text.substr(0, bol) + text.substr(eol == text.size() ? eol : eol + 1);
	return text.substr(0, bol) + indent + replacement + text.substr(eol);
}

std::string error_of(const std::string &text)
{
	struct mtb_vessel v;
	struct mtb_errbuf eb = {};
	EXPECT_NE(mtb_vessel_parse(text.data(), text.size(), "vessels/x.yaml", &v, &eb), MTB_OK) << text;
	return eb.msg;
}

void expect_error(const std::string &text, const std::string &field, const std::string &why)
{
	std::string msg = error_of(text);
	EXPECT_EQ(msg.rfind("vessels/x.yaml: ", 0), 0u) << msg;
	EXPECT_NE(msg.find("field '" + field + "'"), std::string::npos) << msg;
	EXPECT_NE(msg.find(why), std::string::npos) << msg;
}
} // namespace

TEST(Vessel, LoadsTheTwentyLitreCan)
{
	struct mtb_vessel v;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_vessel_load(MTB_SOURCE_DIR "/configs/vessels/can-20l-ss304-td.yaml", &v, &eb), MTB_OK) << eb.msg;
	EXPECT_STREQ(v.name, "can-20l-ss304-td");
	EXPECT_EQ(v.kind, MTB_VESSEL_CAN);
	EXPECT_EQ(v.nominal_ul, 20000000);
	EXPECT_DOUBLE_EQ(v.gamma_per_k, 51.8e-6);
	EXPECT_EQ(v.delivery, MTB_VESSEL_TO_DELIVER);
	EXPECT_DOUBLE_EQ(v.drain_time_s, 20);
	EXPECT_EQ(v.scale.zero_ul, 19900000);
	EXPECT_EQ(v.scale.division_ul, 10000);
	EXPECT_EQ(v.scale.divisions, 20);
	EXPECT_EQ(mtb_vessel_nominal_line_ul(&v), 20000000);
	/* 10 000 mm3 over a 36 mm bore: 9.82 mm per division */
	EXPECT_NEAR(v.scale.division_mm, 10000 / (3.14159265358979323846 / 4 * 36 * 36), 1e-9);
	EXPECT_EQ(v.rule, MTB_TOL_ONE_DIVISION);
	EXPECT_EQ(mtb_vessel_mpe_ul(&v), 10000);
	EXPECT_EQ(mtb_vessel_scale_volume_ul(&v, 12.3), 20023000);
	EXPECT_EQ(mtb_vessel_scale_volume_ul(&v, 0), 19900000);
}

TEST(Vessel, EveryShippedVesselLoadsByName)
{
	for (const char *name : { "can-20l-ss304-td", "can-5l-ss316-td", "cyl-100ml-a", "cyl-1000ml-b" }) {
		struct mtb_vessel v;
		struct mtb_errbuf eb = {};
		EXPECT_EQ(mtb_vessel_load(name, &v, &eb), MTB_OK) << name << ": " << eb.msg;
		EXPECT_STREQ(v.name, name);
	}
}

TEST(Vessel, ClassTablePicksTheVesselsClass)
{
	struct mtb_vessel v;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_vessel_parse(CYL100.data(), CYL100.size(), "x", &v, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(v.rule, MTB_TOL_CLASS);
	EXPECT_EQ(mtb_vessel_mpe_ul(&v), 500);   /* class A 0.50 mL */
	std::string b = with(CYL100, "class", "class: B");
	ASSERT_EQ(mtb_vessel_parse(b.data(), b.size(), "x", &v, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(mtb_vessel_mpe_ul(&v), 1000);
	EXPECT_EQ(v.kind, MTB_VESSEL_CYLINDER);
	EXPECT_EQ(v.delivery, MTB_VESSEL_TO_CONTAIN);
	EXPECT_EQ(mtb_vessel_nominal_line_ul(&v), 100000);
}

TEST(Vessel, OwnMpeRule)
{
	std::string t = with(CAN20, "rule", "rule: mpe");
	expect_error(t, "rule", "needs the vessel's MPE");
	t = with(t, "u_ratio_max", "mpe_l: 0.004");
	struct mtb_vessel v;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_vessel_parse(t.data(), t.size(), "x", &v, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(mtb_vessel_mpe_ul(&v), 4000);
	EXPECT_DOUBLE_EQ(v.u_ratio_max, 1.0 / 3.0);   /* the default */
}

TEST(Vessel, JudgesInIntegers)
{
	struct mtb_vessel v;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_vessel_parse(CAN20.data(), CAN20.size(), "x", &v, &eb), MTB_OK);
	/* MPE one division = 10 000 uL; U may be up to 0.333333 x 10 000 = 3333.33 uL */
	EXPECT_EQ(mtb_vessel_judge(&v, 10000, 3000), MTB_VESSEL_PASS);   /* exactly at the MPE */
	EXPECT_EQ(mtb_vessel_judge(&v, -10000, 3000), MTB_VESSEL_PASS);
	EXPECT_EQ(mtb_vessel_judge(&v, 10001, 3000), MTB_VESSEL_FAIL);
	EXPECT_EQ(mtb_vessel_judge(&v, -10001, 3000), MTB_VESSEL_FAIL);
	EXPECT_EQ(mtb_vessel_judge(&v, 0, 3333), MTB_VESSEL_PASS);
	EXPECT_EQ(mtb_vessel_judge(&v, 0, 3334), MTB_VESSEL_INVALID);
	EXPECT_STREQ(mtb_vessel_verdict_name(MTB_VESSEL_INVALID), "invalid");
}

TEST(Vessel, ErrorsNameFileLineAndField)
{
	std::string msg = error_of(with(CAN20, "expansion_per_k", "expansion_per_k: 5e-5x"));
	EXPECT_NE(msg.find("vessels/x.yaml: line "), std::string::npos) << msg;
	expect_error(with(CAN20, "expansion_per_k", "expansion_per_k: 0"), "expansion_per_k", "cubical expansion");
	expect_error(with(CAN20, "kind", "kind: bucket"), "kind", "can or cylinder");
	expect_error(with(CAN20, "delivery", "delivery: to-pour"), "delivery", "to-deliver or to-contain");
	expect_error(with(CAN20, "drain_time_s", ""), "delivery", "drain_time_s");
	expect_error(with(CAN20, "nominal_div", "nominal_div: 11"), "nominal_div", "not the nominal");
	expect_error(with(CAN20, "nominal_div", "nominal_div: 21"), "nominal_div", "0-20");
	expect_error(with(CAN20, "division_l", "division_l: 0"), "division_l", "> 0");
	expect_error(with(CAN20, "division_l", "division_l: 1e-2"), "division_l", "litres");
	expect_error(with(CAN20, "neck_diameter_mm", "neck_diameter_mm: 300"), "neck_diameter_mm", "not a readable scale");
	expect_error(with(CAN20, "number_every", "number_every: 3"), "number_every", "multiple of long_every");
	expect_error(with(CAN20, "rule", "rule: roughly"), "rule", "mpe, one-division or class");
	expect_error(with(CAN20, "u_ratio_max", "u_ratio_max: 2"), "u_ratio_max", "(0, 1]");
	expect_error(with(CAN20, "reference_temp_c", "reference_temp_c: 60"), "reference_temp_c", "0-40");
	expect_error(with(CAN20, "meniscus", "meniscus: side"), "meniscus", "bottom");
	expect_error(with(CYL100, "class", "class: C"), "class", "not in class_mpe_ml");
	expect_error(with(CYL100, "meniscus", "drain_time_s: 10"), "drain_time_s", "only for a to-deliver");
}

TEST(Vessel, RefusesUnknownAndMissingKeys)
{
	std::string msg = error_of(CAN20 + "colour: red\n");
	EXPECT_NE(msg.find("colour"), std::string::npos) << msg;
	msg = error_of(with(CAN20, "material", ""));
	EXPECT_NE(msg.find("material"), std::string::npos) << msg;
	msg = error_of("");
	EXPECT_FALSE(msg.empty());
}

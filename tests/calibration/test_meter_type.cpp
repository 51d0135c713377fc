#include "calibration/meter_type.h"

#include <gtest/gtest.h>

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

const std::string DN15 = read(MTB_SOURCE_DIR "/configs/types/dn15-r160-c2.yaml");

/* Replaces the first line starting with `key:` by `replacement` (or deletes it when empty). */
std::string with_line(std::string text, const std::string &key, const std::string &replacement)
{
	size_t at = text.find("\n" + key + ":");
	EXPECT_NE(at, std::string::npos) << key;
	size_t end = text.find('\n', at + 1);
	return text.replace(at + 1, end - at - (replacement.empty() ? 0 : 1), replacement);
}

std::string error_of(const std::string &text)
{
	struct mtb_meter_type t;
	struct mtb_errbuf eb = {};
	EXPECT_NE(mtb_meter_type_parse(text.data(), text.size(), "types/x.yaml", &t, &eb), MTB_OK) << text;
	return eb.msg;
}

/* The file's refusal names the file, then the field and the reason. */
::testing::AssertionResult refused_with(const std::string &text, const std::string &field, const std::string &why)
{
	std::string msg = error_of(text);
	if (msg.rfind("types/x.yaml: ", 0) != 0)
		return ::testing::AssertionFailure() << "no file name first in: " << msg;
	if (msg.find(field) == std::string::npos)
		return ::testing::AssertionFailure() << "no '" << field << "' in: " << msg;
	if (msg.find(why) == std::string::npos)
		return ::testing::AssertionFailure() << "no '" << why << "' in: " << msg;
	return ::testing::AssertionSuccess();
}
} // namespace

TEST(MeterType, LoadsTheShippedDn15)
{
	struct mtb_meter_type t;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_meter_type_load("dn15-r160-c2", &t, &eb), MTB_OK) << eb.msg;
	EXPECT_STREQ(t.name, "dn15-r160-c2");
	EXPECT_EQ(t.dn, 15);
	EXPECT_EQ(t.accuracy_class, 2);
	EXPECT_EQ(t.max_temp_mdegc, 30000);
	EXPECT_EQ(t.scale_interval_ul, 50000);
	EXPECT_DOUBLE_EQ(t.flow.q1_lph, 15.625);
	EXPECT_DOUBLE_EQ(t.flow.q2_lph, 25.0);
	EXPECT_STREQ(t.register_layout, "roller8-pointer4");
}

TEST(MeterType, EveryShippedTypeLoads)
{
	for (const char *name : { "dn15-r160-c2", "dn20-r160-c2", "dn25-r100-c2", "dn40-r80-c1", "dn50-r100-c2" }) {
		struct mtb_meter_type t;
		struct mtb_errbuf eb = {};
		EXPECT_EQ(mtb_meter_type_load(name, &t, &eb), MTB_OK) << name << ": " << eb.msg;
		EXPECT_STREQ(t.name, name);
	}
}

TEST(MeterType, DefaultsForOptionalRatios)
{
	std::string text = with_line(with_line(DN15, "q2_q1", ""), "q4_q3", "");
	text = with_line(text, "temperature_class", "");
	struct mtb_meter_type t;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_meter_type_parse(text.data(), text.size(), "x", &t, &eb), MTB_OK) << eb.msg;
	EXPECT_DOUBLE_EQ(t.q2_q1, 1.6);
	EXPECT_DOUBLE_EQ(t.q4_q3, 1.25);
	EXPECT_STREQ(t.temperature_class, "T30");
}

TEST(MeterType, MalformedFilesNameFileAndField)
{
	EXPECT_TRUE(refused_with(with_line(DN15, "q3_m3h", ""), "q3_m3h", "missing field"));
	EXPECT_TRUE(refused_with(with_line(DN15, "q3_m3h", "q3_m3h: -2.5"), "line 6: field 'q3_m3h'", "must be > 0"));
	EXPECT_TRUE(refused_with(with_line(DN15, "q3_m3h", "q3_m3h: 0"), "field 'q3_m3h'", "must be > 0"));
	EXPECT_TRUE(refused_with(with_line(DN15, "ratio", "ratio: abc"), "field 'ratio'", "not a number: 'abc'"));
	EXPECT_TRUE(refused_with(with_line(DN15, "ratio", "ratio: 5"), "field 'ratio'", "10-1000"));
	EXPECT_TRUE(refused_with(with_line(DN15, "ratio", "ratio: .nan"), "field 'ratio'", "not a number"));
	EXPECT_TRUE(refused_with(with_line(DN15, "ratio", "ratio: 160x"), "field 'ratio'", "not a number: '160x'"));
	EXPECT_TRUE(refused_with(with_line(DN15, "ratio", "ratio: 0x10"), "field 'ratio'", "not a number"));
	EXPECT_TRUE(refused_with(with_line(DN15, "q3_m3h", "q3_m3h: 1e999"), "field 'q3_m3h'", "not a number"));
	EXPECT_TRUE(refused_with(with_line(DN15, "accuracy_class", "accuracy_class: 3"), "field 'accuracy_class'", "must be 1 or 2"));
	EXPECT_TRUE(refused_with(with_line(DN15, "accuracy_class", "accuracy_class: two"), "field 'accuracy_class'", "must be 1 or 2, got 'two'"));
	EXPECT_TRUE(refused_with(with_line(DN15, "accuracy_class", "accuracy_class: 1.5"), "field 'accuracy_class'", "must be 1 or 2, got '1.5'"));
	EXPECT_TRUE(refused_with(with_line(DN15, "dn", "dn: 15abc"), "field 'dn'", "got '15abc'"));
	EXPECT_TRUE(refused_with(with_line(DN15, "temperature_class", "temperature_class: T45"), "field 'temperature_class'", "unknown class 'T45'"));
	EXPECT_TRUE(refused_with(with_line(DN15, "scale_interval_l", "scale_interval_l: 0.03"), "field 'scale_interval_l'", "1, 2 or 5"));
	EXPECT_TRUE(refused_with(with_line(DN15, "scale_interval_l", "scale_interval_l: -1"), "field 'scale_interval_l'", "1, 2 or 5"));
	EXPECT_TRUE(refused_with(with_line(DN15, "dn", "dn: [15]"), "field 'dn'", "Expecting"));
	EXPECT_TRUE(refused_with(with_line(DN15, "dn", "dn: 99999"), "field 'dn'", "nominal size"));
	EXPECT_TRUE(refused_with(with_line(DN15, "q2_q1", "q2_q1: 200"), "field 'q2_q1'", "1-16"));
	EXPECT_TRUE(refused_with(with_line(DN15, "name", "name: {a: 1}"), "field 'name'", "Expecting"));
	EXPECT_TRUE(refused_with(DN15 + "colour: red\n", "unknown field 'colour'", "line 14"));
	EXPECT_TRUE(refused_with(DN15 + "dn: 20\n", "dn", ""));
}

TEST(MeterType, JunkInputGivesAClearError)
{
	EXPECT_TRUE(refused_with("", "", "file is empty"));
	EXPECT_TRUE(refused_with("\n   \n", "", "file is empty"));
	EXPECT_TRUE(refused_with(std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10), "", "not a text file"));
	EXPECT_TRUE(refused_with("\xff\xfe\x00\x01", "", "not a text file"));
	EXPECT_TRUE(refused_with("just a line of text", "", "Expecting MAPPING"));
	EXPECT_TRUE(refused_with("- 1\n- 2\n", "", "Expecting MAPPING"));
	EXPECT_TRUE(refused_with("name: x\n  dn: [\n", "", "line"));
	EXPECT_TRUE(refused_with("name: &a dn15\ndn: *a\n", "", ""));
}

TEST(MeterType, LoadByUnknownNameOrMissingFile)
{
	struct mtb_meter_type t;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_meter_type_load("dn99-nothing", &t, &eb), MTB_ERR_NOTFOUND);
	EXPECT_NE(std::string(eb.msg).find("dn99-nothing"), std::string::npos);
	EXPECT_EQ(mtb_meter_type_load("/nonexistent/t.yaml", &t, &eb), MTB_ERR_NOTFOUND);
	EXPECT_NE(std::string(eb.msg).find("/nonexistent/t.yaml"), std::string::npos);
}

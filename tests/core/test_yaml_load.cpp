#include "core/config.h"
#include "core/yaml_load.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {
struct doc {
	char *name;
	int *count;
};
const cyaml_schema_field_t FIELDS[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct doc, name, 1, 31),
	CYAML_FIELD_INT_PTR("count", CYAML_FLAG_POINTER, struct doc, count),
	CYAML_FIELD_END
};
const cyaml_schema_value_t SCHEMA = { CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct doc, FIELDS) };

std::string load_error(const std::string &text)
{
	void *out = nullptr;
	struct mtb_errbuf eb = {};
	int rc = mtb_yaml_load_data(text.data(), text.size(), &SCHEMA, &out, &eb);
	EXPECT_NE(rc, MTB_OK) << text;
	EXPECT_EQ(out, nullptr);
	return eb.msg;
}
} // namespace

TEST(YamlLoad, LoadsAValidDocument)
{
	std::string text = "name: pump\ncount: 3\n";
	struct doc *d = nullptr;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_yaml_load_data(text.data(), text.size(), &SCHEMA, (void **)&d, &eb), MTB_OK) << eb.msg;
	EXPECT_STREQ(d->name, "pump");
	EXPECT_EQ(*d->count, 3);
	mtb_yaml_free(&SCHEMA, d);
}

TEST(YamlLoad, EveryFailureNamesWhatIsWrong)
{
	EXPECT_EQ(load_error(""), "file is empty");
	EXPECT_EQ(load_error(" \n\n"), "file is empty");
	EXPECT_EQ(load_error("name: x\n"), "missing field 'count'");
	EXPECT_EQ(load_error("name: x\ncount: 3\ncolour: red\n"), "line 3: unknown field 'colour'");
	EXPECT_EQ(load_error("name: x\ncount: three\n"), "line 2: field 'count': Invalid INT value: 'three'");
	EXPECT_EQ(load_error(std::string("name: x\0\ncount: 1\n", 19)), "not a text file (NUL byte or invalid UTF-8)");
	EXPECT_EQ(load_error("name: \xc3\x28\n"), "not a text file (NUL byte or invalid UTF-8)");
	EXPECT_NE(load_error("name: [x\n").find("line"), std::string::npos);
	EXPECT_NE(load_error("- 1\n- 2\n").size(), 0u);
	EXPECT_NE(load_error("name: &a x\ncount: *a\n").size(), 0u);
}

TEST(YamlLoad, KeyLineFindsIndentedKeys)
{
	const char *t = "# c\nname: x\n  count: 2\n- item: 1\n";
	EXPECT_EQ(mtb_yaml_key_line(t, "name"), 2);
	EXPECT_EQ(mtb_yaml_key_line(t, "count"), 3);
	EXPECT_EQ(mtb_yaml_key_line(t, "item"), 4);
	EXPECT_EQ(mtb_yaml_key_line(t, "nam"), 0);
}

TEST(Config, FindsByNameAndRefusesPathTricks)
{
	char path[512];
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_config_find("types", "dn15-r160-c2", path, sizeof path, &eb), MTB_OK) << eb.msg;
	EXPECT_NE(std::string(path).find("types/dn15-r160-c2.yaml"), std::string::npos);
	EXPECT_EQ(mtb_config_find("types", "no-such-type", path, sizeof path, &eb), MTB_ERR_NOTFOUND);
	EXPECT_NE(std::string(eb.msg).find("no-such-type"), std::string::npos);
	EXPECT_EQ(mtb_config_find("types", "a b", path, sizeof path, &eb), MTB_ERR_ARG);
	ASSERT_EQ(mtb_config_find("types", "x/y.yaml", path, sizeof path, &eb), MTB_OK);
	EXPECT_STREQ(path, "x/y.yaml");
}

TEST(YamlNumbers, StrictWhereLibcyamlIsLax)
{
	double d;
	long l;
	EXPECT_EQ(mtb_yaml_number("2.5", &d), MTB_OK);
	EXPECT_DOUBLE_EQ(d, 2.5);
	EXPECT_EQ(mtb_yaml_number("-1e-3", &d), MTB_OK);
	EXPECT_DOUBLE_EQ(d, -0.001);
	EXPECT_EQ(mtb_yaml_number(".5", &d), MTB_OK);
	for (const char *bad : { "", "2.5x", "0x10", "inf", ".nan", "1e", "e5", " 1", "1 ", "1,5", "." })
		EXPECT_NE(mtb_yaml_number(bad, &d), MTB_OK) << bad;
	EXPECT_EQ(mtb_yaml_number("1e999", &d), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_yaml_integer("15", &l), MTB_OK);
	EXPECT_EQ(l, 15);
	EXPECT_EQ(mtb_yaml_integer("-3", &l), MTB_OK);
	for (const char *bad : { "", "1.5", "15abc", "0x10", "+", "1e3" })
		EXPECT_NE(mtb_yaml_integer(bad, &l), MTB_OK) << bad;
	EXPECT_EQ(mtb_yaml_integer("99999999999999999999", &l), MTB_ERR_RANGE);
}

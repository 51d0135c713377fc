#include "core/decimal.h"
#include "core/err.h"
#include "core/json.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

TEST(Decimal, ParsesLitresToMicrolitresExactly)
{
	int64_t v;
	ASSERT_EQ(mtb_decimal_parse("10.30", 6, &v), MTB_OK);
	EXPECT_EQ(v, 10300000);
	ASSERT_EQ(mtb_decimal_parse("0.000001", 6, &v), MTB_OK);
	EXPECT_EQ(v, 1);
	ASSERT_EQ(mtb_decimal_parse("-2", 6, &v), MTB_OK);
	EXPECT_EQ(v, -2000000);
	ASSERT_EQ(mtb_decimal_parse("+3.", 2, &v), MTB_OK);
	EXPECT_EQ(v, 300);
	ASSERT_EQ(mtb_decimal_parse(".5", 1, &v), MTB_OK);
	EXPECT_EQ(v, 5);
}

TEST(Decimal, RoundsHalfAwayFromZeroBeyondScale)
{
	int64_t v;
	ASSERT_EQ(mtb_decimal_parse("1.0000005", 6, &v), MTB_OK);
	EXPECT_EQ(v, 1000001);
	ASSERT_EQ(mtb_decimal_parse("1.0000004999", 6, &v), MTB_OK);
	EXPECT_EQ(v, 1000000);
	ASSERT_EQ(mtb_decimal_parse("-1.0000005", 6, &v), MTB_OK);
	EXPECT_EQ(v, -1000001);
}

TEST(Decimal, RejectsWhatIsNotADecimal)
{
	int64_t v = 42;
	for (const char *bad : { "", "-", ".", "1.2.3", "1e3", " 1", "1 ", "abc", "0x10", "1,5", "--1" })
		EXPECT_EQ(mtb_decimal_parse(bad, 6, &v), MTB_ERR_ARG) << bad;
	EXPECT_EQ(v, 42);
	EXPECT_EQ(mtb_decimal_parse("99999999999999999999", 0, &v), MTB_ERR_RANGE);
	EXPECT_EQ(mtb_decimal_parse("10000000000000", 6, &v), MTB_ERR_RANGE);
}

TEST(Decimal, FormatsTrimmingTrailingZeros)
{
	char b[64];
	mtb_decimal_format(b, sizeof b, 30000, 4, 1);
	EXPECT_STREQ(b, "3.0");
	mtb_decimal_format(b, sizeof b, -1250, 4, 1);
	EXPECT_STREQ(b, "-0.125");
	mtb_decimal_format(b, sizeof b, 5, 4, 1);
	EXPECT_STREQ(b, "0.0005");
	mtb_decimal_format(b, sizeof b, 10300000, 6, 0);
	EXPECT_STREQ(b, "10.3");
	mtb_decimal_format(b, sizeof b, INT64_MIN, 0, 0);
	EXPECT_STREQ(b, "-9223372036854775808");
}

TEST(Decimal, DivRoundIsHalfAwayFromZero)
{
	EXPECT_EQ(mtb_div_round(5, 2), 3);
	EXPECT_EQ(mtb_div_round(-5, 2), -3);
	EXPECT_EQ(mtb_div_round(4, 3), 1);
	EXPECT_EQ(mtb_div_round(-4, 3), -1);
	EXPECT_EQ(mtb_div_round((__int128)300000 * 1000000, 10000000), 30000);
}

static std::string json_of(void (*fn)(FILE *))
{
	char *buf = nullptr;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(f);
	fclose(f);
	std::string s(buf, len);
	free(buf);
	return s;
}

TEST(Json, EscapesStringsAndReplacesInvalidUtf8)
{
	EXPECT_EQ(json_of([](FILE *f) { mtb_json_string(f, "a\"b\\c\n\x01"); }), "\"a\\\"b\\\\c\\n\\u0001\"");
	EXPECT_EQ(json_of([](FILE *f) { mtb_json_string(f, "水錶"); }), "\"水錶\"");
	EXPECT_EQ(json_of([](FILE *f) { mtb_json_string(f, "x\xff" "y"); }), "\"x\xEF\xBF\xBDy\"");
}

TEST(Json, DoublesAlwaysLookLikeNumbersWithAPoint)
{
	EXPECT_EQ(json_of([](FILE *f) { mtb_json_double(f, 25.000000000000004); }), "25.0");
	EXPECT_EQ(json_of([](FILE *f) { mtb_json_double(f, 15.625); }), "15.625");
	EXPECT_EQ(json_of([](FILE *f) { mtb_json_double(f, 3125); }), "3125.0");
	EXPECT_EQ(json_of([](FILE *f) { mtb_json_double(f, 1.0 / 0.0); }), "null");
}

#include "core/sha256.h"

TEST(Sha256, KnownVectors)
{
	char hex[65];
	ASSERT_EQ(mtb_sha256_hex("", 0, hex), MTB_OK);
	EXPECT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ASSERT_EQ(mtb_sha256_hex("abc", 3, hex), MTB_OK);
	EXPECT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const void *parts[] = { "a", "bc" };
	size_t lens[] = { 1, 2 };
	ASSERT_EQ(mtb_sha256_hex_parts(parts, lens, 2, hex), MTB_OK);
	EXPECT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Decimal, MedianOfIntegersRoundsTheMiddlePairHalfAwayFromZero)
{
	int64_t odd[] = { 9, -3, 5 };
	EXPECT_EQ(mtb_median_i64(odd, 3), 5);
	int64_t even[] = { 4, 1, 2, 3 };             /* (2 + 3) / 2 = 2.5 -> 3 */
	EXPECT_EQ(mtb_median_i64(even, 4), 3);
	int64_t neg[] = { -2, -3, -10, 7 };          /* (-3 + -2) / 2 = -2.5 -> -3 */
	EXPECT_EQ(mtb_median_i64(neg, 4), -3);
	int64_t big[] = { INT64_MAX - 1, INT64_MAX }; /* no overflow in the sum */
	EXPECT_EQ(mtb_median_i64(big, 2), INT64_MAX);
	int64_t one[] = { 42 };
	EXPECT_EQ(mtb_median_i64(one, 1), 42);
}

// Register codec: vectors for every type and word order. The expected registers were computed
// independently (Python's struct module, big-endian packing, then the order's word/byte swaps)
// and are checked in both directions.
#include "hal/reg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace {

struct Vector {
	mtb_reg_type type;
	mtb_reg_order order;
	uint16_t words[4];
	int64_t i;
	uint64_t u;
	double f;
};

const Vector VECTORS[] = {
	{ MTB_REG_INT16, MTB_REG_ABCD, { 0xFFFE }, -2LL, 0, 0 },
	{ MTB_REG_INT16, MTB_REG_CDAB, { 0xFFFE }, -2LL, 0, 0 },
	{ MTB_REG_INT16, MTB_REG_BADC, { 0xFEFF }, -2LL, 0, 0 },
	{ MTB_REG_INT16, MTB_REG_DCBA, { 0xFEFF }, -2LL, 0, 0 },
	{ MTB_REG_INT16, MTB_REG_ABCD, { 0x3039 }, 12345LL, 0, 0 },
	{ MTB_REG_INT16, MTB_REG_CDAB, { 0x3039 }, 12345LL, 0, 0 },
	{ MTB_REG_INT16, MTB_REG_BADC, { 0x3930 }, 12345LL, 0, 0 },
	{ MTB_REG_INT16, MTB_REG_DCBA, { 0x3930 }, 12345LL, 0, 0 },
	{ MTB_REG_UINT16, MTB_REG_ABCD, { 0xBEEF }, 0, 48879ULL, 0 },
	{ MTB_REG_UINT16, MTB_REG_CDAB, { 0xBEEF }, 0, 48879ULL, 0 },
	{ MTB_REG_UINT16, MTB_REG_BADC, { 0xEFBE }, 0, 48879ULL, 0 },
	{ MTB_REG_UINT16, MTB_REG_DCBA, { 0xEFBE }, 0, 48879ULL, 0 },
	{ MTB_REG_INT32, MTB_REG_ABCD, { 0xF8A4, 0x32EB }, -123456789LL, 0, 0 },
	{ MTB_REG_INT32, MTB_REG_CDAB, { 0x32EB, 0xF8A4 }, -123456789LL, 0, 0 },
	{ MTB_REG_INT32, MTB_REG_BADC, { 0xA4F8, 0xEB32 }, -123456789LL, 0, 0 },
	{ MTB_REG_INT32, MTB_REG_DCBA, { 0xEB32, 0xA4F8 }, -123456789LL, 0, 0 },
	{ MTB_REG_UINT32, MTB_REG_ABCD, { 0xDEAD, 0xBEEF }, 0, 3735928559ULL, 0 },
	{ MTB_REG_UINT32, MTB_REG_CDAB, { 0xBEEF, 0xDEAD }, 0, 3735928559ULL, 0 },
	{ MTB_REG_UINT32, MTB_REG_BADC, { 0xADDE, 0xEFBE }, 0, 3735928559ULL, 0 },
	{ MTB_REG_UINT32, MTB_REG_DCBA, { 0xEFBE, 0xADDE }, 0, 3735928559ULL, 0 },
	{ MTB_REG_INT64, MTB_REG_ABCD, { 0xEEDD, 0xEF0B, 0x8216, 0x7EEB }, -1234567890123456789LL, 0, 0 },
	{ MTB_REG_INT64, MTB_REG_CDAB, { 0x7EEB, 0x8216, 0xEF0B, 0xEEDD }, -1234567890123456789LL, 0, 0 },
	{ MTB_REG_INT64, MTB_REG_BADC, { 0xDDEE, 0x0BEF, 0x1682, 0xEB7E }, -1234567890123456789LL, 0, 0 },
	{ MTB_REG_INT64, MTB_REG_DCBA, { 0xEB7E, 0x1682, 0x0BEF, 0xDDEE }, -1234567890123456789LL, 0, 0 },
	{ MTB_REG_UINT64, MTB_REG_ABCD, { 0x0102, 0x0304, 0x0506, 0x0708 }, 0, 72623859790382856ULL, 0 },
	{ MTB_REG_UINT64, MTB_REG_CDAB, { 0x0708, 0x0506, 0x0304, 0x0102 }, 0, 72623859790382856ULL, 0 },
	{ MTB_REG_UINT64, MTB_REG_BADC, { 0x0201, 0x0403, 0x0605, 0x0807 }, 0, 72623859790382856ULL, 0 },
	{ MTB_REG_UINT64, MTB_REG_DCBA, { 0x0807, 0x0605, 0x0403, 0x0201 }, 0, 72623859790382856ULL, 0 },
	{ MTB_REG_UINT64, MTB_REG_ABCD, { 0xFEDC, 0xBA98, 0x7654, 0x3210 }, 0, 18364758544493064720ULL, 0 },
	{ MTB_REG_UINT64, MTB_REG_CDAB, { 0x3210, 0x7654, 0xBA98, 0xFEDC }, 0, 18364758544493064720ULL, 0 },
	{ MTB_REG_UINT64, MTB_REG_BADC, { 0xDCFE, 0x98BA, 0x5476, 0x1032 }, 0, 18364758544493064720ULL, 0 },
	{ MTB_REG_UINT64, MTB_REG_DCBA, { 0x1032, 0x5476, 0x98BA, 0xDCFE }, 0, 18364758544493064720ULL, 0 },
	{ MTB_REG_FLOAT32, MTB_REG_ABCD, { 0x47F1, 0x2000 }, 0, 0, 123456.0 },
	{ MTB_REG_FLOAT32, MTB_REG_CDAB, { 0x2000, 0x47F1 }, 0, 0, 123456.0 },
	{ MTB_REG_FLOAT32, MTB_REG_BADC, { 0xF147, 0x0020 }, 0, 0, 123456.0 },
	{ MTB_REG_FLOAT32, MTB_REG_DCBA, { 0x0020, 0xF147 }, 0, 0, 123456.0 },
	{ MTB_REG_FLOAT32, MTB_REG_ABCD, { 0xBE20, 0x0000 }, 0, 0, -0.15625 },
	{ MTB_REG_FLOAT32, MTB_REG_CDAB, { 0x0000, 0xBE20 }, 0, 0, -0.15625 },
	{ MTB_REG_FLOAT32, MTB_REG_BADC, { 0x20BE, 0x0000 }, 0, 0, -0.15625 },
	{ MTB_REG_FLOAT32, MTB_REG_DCBA, { 0x0000, 0x20BE }, 0, 0, -0.15625 },
	{ MTB_REG_FLOAT64, MTB_REG_ABCD, { 0x40FE, 0x240C, 0x9FBE, 0x76C9 }, 0, 0, 123456.789 },
	{ MTB_REG_FLOAT64, MTB_REG_CDAB, { 0x76C9, 0x9FBE, 0x240C, 0x40FE }, 0, 0, 123456.789 },
	{ MTB_REG_FLOAT64, MTB_REG_BADC, { 0xFE40, 0x0C24, 0xBE9F, 0xC976 }, 0, 0, 123456.789 },
	{ MTB_REG_FLOAT64, MTB_REG_DCBA, { 0xC976, 0xBE9F, 0x0C24, 0xFE40 }, 0, 0, 123456.789 },
	{ MTB_REG_FLOAT64, MTB_REG_ABCD, { 0x81BA, 0xC9A7, 0xB3B7, 0x302F }, 0, 0, -2.5e-300 },
	{ MTB_REG_FLOAT64, MTB_REG_CDAB, { 0x302F, 0xB3B7, 0xC9A7, 0x81BA }, 0, 0, -2.5e-300 },
	{ MTB_REG_FLOAT64, MTB_REG_BADC, { 0xBA81, 0xA7C9, 0xB7B3, 0x2F30 }, 0, 0, -2.5e-300 },
	{ MTB_REG_FLOAT64, MTB_REG_DCBA, { 0x2F30, 0xB7B3, 0xA7C9, 0xBA81 }, 0, 0, -2.5e-300 },
};

TEST(RegCodec, DecodesEveryTypeAndOrder)
{
	for (const Vector &v : VECTORS) {
		SCOPED_TRACE(std::string(mtb_reg_type_name(v.type)) + " " + mtb_reg_order_name(v.order));
		mtb_reg_raw raw;
		ASSERT_EQ(MTB_OK, mtb_reg_decode(v.type, v.order, v.words, &raw));
		EXPECT_EQ(v.type, raw.type);
		switch (v.type) {
		case MTB_REG_INT16: case MTB_REG_INT32: case MTB_REG_INT64: EXPECT_EQ(v.i, raw.v.i); break;
		case MTB_REG_UINT16: case MTB_REG_UINT32: case MTB_REG_UINT64: EXPECT_EQ(v.u, raw.v.u); break;
		default: EXPECT_EQ(v.f, raw.v.f); break;   // exact: float32 widens exactly
		}
	}
}

TEST(RegCodec, EncodesEveryTypeAndOrder)
{
	for (const Vector &v : VECTORS) {
		SCOPED_TRACE(std::string(mtb_reg_type_name(v.type)) + " " + mtb_reg_order_name(v.order));
		mtb_reg_raw raw{};
		raw.type = v.type;
		switch (v.type) {
		case MTB_REG_INT16: case MTB_REG_INT32: case MTB_REG_INT64: raw.v.i = v.i; break;
		case MTB_REG_UINT16: case MTB_REG_UINT32: case MTB_REG_UINT64: raw.v.u = v.u; break;
		default: raw.v.f = v.f; break;
		}
		uint16_t w[4] = { 0xAAAA, 0xAAAA, 0xAAAA, 0xAAAA };
		ASSERT_EQ(MTB_OK, mtb_reg_encode(v.order, &raw, w));
		int n = mtb_reg_words(v.type);
		for (int k = 0; k < n; k++)
			EXPECT_EQ(v.words[k], w[k]) << "word " << k;
		for (int k = n; k < 4; k++)
			EXPECT_EQ(0xAAAA, w[k]) << "wrote past the value's words";
	}
}

TEST(RegCodec, EveryTypeAndOrderIsCovered)
{
	for (int t = MTB_REG_INT16; t <= MTB_REG_FLOAT64; t++)
		for (int o = MTB_REG_ABCD; o <= MTB_REG_DCBA; o++) {
			bool found = false;
			for (const Vector &v : VECTORS)
				found |= v.type == t && v.order == o;
			EXPECT_TRUE(found) << mtb_reg_type_name((mtb_reg_type)t) << " " << mtb_reg_order_name((mtb_reg_order)o);
		}
}

TEST(RegCodec, WordCountsAndNames)
{
	EXPECT_EQ(0, mtb_reg_words(MTB_REG_BOOL));
	EXPECT_EQ(1, mtb_reg_words(MTB_REG_INT16));
	EXPECT_EQ(2, mtb_reg_words(MTB_REG_FLOAT32));
	EXPECT_EQ(4, mtb_reg_words(MTB_REG_UINT64));
	EXPECT_EQ(MTB_REG_FLOAT32, mtb_reg_type_parse("float32"));
	EXPECT_EQ(-1, mtb_reg_type_parse("Float32"));
	EXPECT_EQ(-1, mtb_reg_type_parse("real"));
	EXPECT_EQ(MTB_REG_BADC, mtb_reg_order_parse("BADC"));
	EXPECT_EQ(-1, mtb_reg_order_parse("abcd"));
	EXPECT_EQ(-1, mtb_reg_order_parse("ABDC"));
}

TEST(RegCodec, RefusesBoolAndBadOrder)
{
	uint16_t w[4] = { 0 };
	mtb_reg_raw raw;
	EXPECT_EQ(MTB_ERR_ARG, mtb_reg_decode(MTB_REG_BOOL, MTB_REG_ABCD, w, &raw));
	EXPECT_EQ(MTB_ERR_ARG, mtb_reg_decode(MTB_REG_INT16, (mtb_reg_order)7, w, &raw));
	EXPECT_EQ(MTB_ERR_ARG, mtb_reg_decode((mtb_reg_type)42, MTB_REG_ABCD, w, &raw));
}

TEST(RegCodec, ScalingBothWays)
{
	mtb_reg_raw raw;
	// 50.00 Hz at 0.01 Hz per count is 5000.
	ASSERT_EQ(MTB_OK, mtb_reg_from_double(MTB_REG_UINT16, 50.0, 0.01, &raw));
	EXPECT_EQ(5000u, raw.v.u);
	EXPECT_DOUBLE_EQ(50.0, mtb_reg_to_double(&raw, 0.01));
	// Rounded to the nearest count.
	ASSERT_EQ(MTB_OK, mtb_reg_from_double(MTB_REG_UINT16, 12.346, 0.01, &raw));
	EXPECT_EQ(1235u, raw.v.u);
	ASSERT_EQ(MTB_OK, mtb_reg_from_double(MTB_REG_INT16, -1.5, 0.01, &raw));
	EXPECT_EQ(-150, raw.v.i);
	EXPECT_EQ(MTB_ERR_RANGE, mtb_reg_from_double(MTB_REG_UINT16, -0.01, 0.01, &raw));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_reg_from_double(MTB_REG_UINT16, 655.36, 0.01, &raw));
	EXPECT_EQ(MTB_OK, mtb_reg_from_double(MTB_REG_UINT16, 655.35, 0.01, &raw));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_reg_from_double(MTB_REG_INT16, 32768, 1, &raw));
	EXPECT_EQ(MTB_OK, mtb_reg_from_double(MTB_REG_INT16, -32768, 1, &raw));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_reg_from_double(MTB_REG_UINT32, 4294967296.0, 1, &raw));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_reg_from_double(MTB_REG_INT64, 9223372036854775808.0, 1, &raw));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_reg_from_double(MTB_REG_FLOAT32, 1e39, 1, &raw));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_reg_from_double(MTB_REG_FLOAT64, NAN, 1, &raw));
	EXPECT_EQ(MTB_ERR_ARG, mtb_reg_from_double(MTB_REG_UINT16, 1, 0, &raw));
	ASSERT_EQ(MTB_OK, mtb_reg_from_double(MTB_REG_BOOL, 1, 1, &raw));
	EXPECT_EQ(1, raw.v.i);
	EXPECT_EQ(MTB_ERR_ARG, mtb_reg_from_double(MTB_REG_BOOL, 2, 1, &raw));
}

TEST(RegCodec, Float32RoundTripThroughEncode)
{
	// The value the bench notes verified with libmodbus 3.1.6: 0x47F1 0x2000 is 123456.0.
	mtb_reg_raw raw;
	ASSERT_EQ(MTB_OK, mtb_reg_from_double(MTB_REG_FLOAT32, 123456.0, 1, &raw));
	uint16_t w[2];
	ASSERT_EQ(MTB_OK, mtb_reg_encode(MTB_REG_ABCD, &raw, w));
	EXPECT_EQ(0x47F1, w[0]);
	EXPECT_EQ(0x2000, w[1]);
}

}  // namespace

#include "hal/balance_sbi.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {
int parse(const std::string &s, struct mtb_balance_reading *r, const char **why = nullptr)
{
	return mtb_balance_parse_sbi(s.data(), s.size(), r, why);
}

/* The 16-character frame: sign, bracket, value right-aligned in 8, bracket, unit in 3, CR LF. */
std::string frame(char sign, const std::string &value, const std::string &unit, char open = ' ', char close = ' ',
		  bool crlf = true)
{
	std::string f(1, sign);
	f += open;
	f += std::string(8 - value.size(), ' ') + value;
	f += close;
	f += unit + std::string(3 - unit.size(), ' ');
	EXPECT_EQ(f.size(), 14u);
	return crlf ? f + "\r\n" : f;
}
} // namespace

TEST(BalanceSbi, SixteenCharacterFrames)
{
	struct mtb_balance_reading r = {};
	ASSERT_EQ(parse(frame('+', "123.56", "g"), &r), MTB_OK);
	EXPECT_EQ(r.mass_mg, 123560);
	EXPECT_TRUE(r.stable);
	EXPECT_EQ(frame('+', "123.56", "g"), "+   123.56 g  \r\n");
	ASSERT_EQ(parse(frame('-', "19.963", "kg", ' ', ' ', false), &r), MTB_OK);   /* CR LF may be absent */
	EXPECT_EQ(r.mass_mg, -19963000);
	ASSERT_EQ(parse(frame(' ', "1234.5", "mg"), &r), MTB_OK);   /* space sign: positive; mg rounded */
	EXPECT_EQ(r.mass_mg, 1235);
	ASSERT_EQ(parse(frame('+', "123.56", "g", '[', ']'), &r), MTB_OK);   /* legal-for-trade brackets */
	EXPECT_EQ(r.mass_mg, 123560);
	ASSERT_EQ(parse(frame('+', "20000.0", "g"), &r), MTB_OK);
	EXPECT_EQ(r.mass_mg, 20000000);
}

TEST(BalanceSbi, TwentyTwoCharacterFramesWithAnId)
{
	struct mtb_balance_reading r = {};
	ASSERT_EQ(parse("N     " + frame('-', "0.500", "kg"), &r), MTB_OK);
	EXPECT_EQ(r.mass_mg, -500000);
	ASSERT_EQ(parse("G#    " + frame('+', "123.56", "g"), &r), MTB_OK);
	EXPECT_EQ(r.mass_mg, 123560);
	const char *why = nullptr;
	EXPECT_EQ(parse("N1234!" + frame('+', "123.56", "g"), &r, &why), MTB_ERR_PROTO);
	EXPECT_STREQ(why, "bad ID header");
}

TEST(BalanceSbi, OverloadUnderloadErrorsAndMotionNeverGiveAMass)
{
	struct mtb_balance_reading r = { 777, true };
	const char *why = nullptr;
	EXPECT_EQ(parse(frame(' ', "HH", ""), &r, &why), MTB_ERR_RANGE);
	EXPECT_STREQ(why, "overload");
	EXPECT_EQ(parse(frame(' ', "H", ""), &r, &why), MTB_ERR_RANGE);
	EXPECT_EQ(parse(frame(' ', "LL", ""), &r, &why), MTB_ERR_RANGE);
	EXPECT_STREQ(why, "underload");
	EXPECT_EQ(parse(frame(' ', "C", ""), &r, &why), MTB_ERR_REFUSED);
	EXPECT_EQ(parse(frame(' ', "Err 54", ""), &r, &why), MTB_ERR_REFUSED);
	EXPECT_STREQ(why, "balance error display");
	EXPECT_EQ(parse(frame('+', "123.56", ""), &r, &why), MTB_ERR_REFUSED);   /* no unit: moving */
	EXPECT_STREQ(why, "moving: no unit sent");
	EXPECT_EQ(r.mass_mg, 777);   /* untouched by every refusal */
}

TEST(BalanceSbi, MalformedFramesAreProtocolErrors)
{
	struct mtb_balance_reading r = {};
	const char *why = nullptr;
	for (const std::string &bad : { std::string(""), std::string("\r\n"), std::string("+12345678 g\r\n"),
					frame('+', "12a.56", "g"), frame('*', "123.56", "g"), frame('+', "12.3.4", "g"),
					frame('+', "123.56", "lb"), frame('+', "123.56", "g") + " ", frame('+', "123.56", "g", 'x'),
					frame('+', "", "g"), frame(' ', "Err x5", ""), frame('+', "1 23.56", "g") }) {
		why = nullptr;
		EXPECT_EQ(parse(bad, &r, &why), MTB_ERR_PROTO) << "'" << bad << "'";
		EXPECT_NE(why, nullptr) << bad;
	}
	std::string nul = frame('+', "123.56", "g");
	nul[5] = '\0';
	EXPECT_EQ(parse(nul, &r, &why), MTB_ERR_PROTO);
}

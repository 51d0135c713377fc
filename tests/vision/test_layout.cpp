#include "vision/layout.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {
const std::string GOOD =
	"name: t\n"
	"size: 100\n"
	"radius: 48\n"
	"rollers:\n"
	"  - { x: 10, y: 20, w: 8, h: 10, weight_l: 10 }\n"
	"  - { x: 20, y: 20, w: 8, h: 10, weight_l: 1, colour: red }\n"
	"pointers:\n"
	"  - { cx: 50, cy: 60, r: 8, weight_l: 0.1, colour: red }\n";

std::string parse_error(const std::string &text)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	EXPECT_NE(mtb_layout_parse(text.data(), text.size(), "x.yaml", &l, &eb), MTB_OK) << text;
	return eb.msg;
}

std::string replace(std::string s, const std::string &from, const std::string &to)
{
	size_t p = s.find(from);
	EXPECT_NE(p, std::string::npos) << from;
	return s.replace(p, from.size(), to);
}
} // namespace

TEST(Layout, ShippedLayoutsLoadAsDocumented)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_layout_load(MTB_SOURCE_DIR "/configs/layouts/roller8-pointer4.yaml", &l, &eb), MTB_OK) << eb.msg;
	EXPECT_STREQ(l.name, "roller8-pointer4");
	ASSERT_EQ(l.n_rollers, 8);
	ASSERT_EQ(l.n_pointers, 4);
	EXPECT_EQ(l.rollers[0].weight_ul, INT64_C(10000000000000));   /* 10 000 m3 */
	EXPECT_EQ(l.rollers[4].weight_ul, INT64_C(1000000000));       /* 1 m3 */
	EXPECT_EQ(l.rollers[7].weight_ul, INT64_C(1000000));          /* 1 L */
	EXPECT_EQ(l.rollers[7].colour, MTB_LAYOUT_RED);
	EXPECT_EQ(l.rollers[4].colour, MTB_LAYOUT_BLACK);
	EXPECT_EQ(l.pointers[0].weight_ul, 100000);                    /* 0.1 L per division */
	EXPECT_EQ(l.finest_ul, 100);                                   /* 0.0001 L */
	EXPECT_EQ(l.range_ul, INT64_C(100000000000000));
	EXPECT_EQ(l.drive, MTB_LAYOUT_TRANSFER);
	ASSERT_EQ(mtb_layout_load(MTB_SOURCE_DIR "/configs/layouts/roller5-pointer4.yaml", &l, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(l.n_rollers, 5);
	EXPECT_EQ(l.finest_ul, 100000);
}

TEST(Layout, OdometerPositionsAcrossTheLargestRollOver)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_layout_load(MTB_SOURCE_DIR "/configs/layouts/roller8-pointer4.yaml", &l, &eb), MTB_OK) << eb.msg;
	/* 9999.99995 m3: 50 uL (half the finest division) before every roller turns. */
	int64_t v = INT64_C(10000000000000) - 50;
	EXPECT_NEAR(mtb_layout_position(&l, 11, v), 9.5, 1e-9);    /* finest pointer */
	EXPECT_NEAR(mtb_layout_position(&l, 8, v), 9.9995, 1e-9);  /* x0.0001 pointer */
	EXPECT_NEAR(mtb_layout_position(&l, 7, v), 9.99995, 1e-9); /* 1 L roller, continuous */
	for (int i = 1; i < 7; i++)                                 /* transfer rollers: all rolling */
		EXPECT_NEAR(mtb_layout_position(&l, i, v), 9.99995, 1e-9) << i;
	EXPECT_NEAR(mtb_layout_position(&l, 0, v), 0.99995, 1e-9);
	/* Exactly 10 000 m3, then 0.5 L more: only the lowest roller moves off its digit. */
	v = INT64_C(10000000000000);
	EXPECT_NEAR(mtb_layout_position(&l, 0, v), 1.0, 1e-12);
	for (int i = 1; i < 12; i++)
		EXPECT_NEAR(mtb_layout_position(&l, i, v), 0.0, 1e-12) << i;
	v += 500000;
	EXPECT_NEAR(mtb_layout_position(&l, 7, v), 0.5, 1e-12);
	EXPECT_NEAR(mtb_layout_position(&l, 6, v), 0.0, 1e-12);
	EXPECT_NEAR(mtb_layout_position(&l, 8, v), 5.0, 1e-12);
	/* A transfer roller is still while the roller below is short of 9. */
	v = INT64_C(10000000000000) + 8500000;   /* 10 000.0085 m3: 1 L roller at 8.5 */
	EXPECT_NEAR(mtb_layout_position(&l, 6, v), 0.0, 1e-12);
	v += 1000000;                           /* at 9.5: the 10 L roller is half way to 1 */
	EXPECT_NEAR(mtb_layout_position(&l, 6, v), 0.5, 1e-12);
	/* The register turns over at its range. */
	EXPECT_NEAR(mtb_layout_position(&l, 0, l.range_ul + 1000000), 0.0, 1e-12);
}

TEST(Layout, ContinuousDrive)
{
	std::string text = GOOD + "drive: continuous\n";
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_layout_parse(text.data(), text.size(), "x.yaml", &l, &eb), MTB_OK) << eb.msg;
	/* 12.35 L: the 10 L roller at 1.235, the 1 L roller at 2.35, the pointer at 3.5. */
	EXPECT_NEAR(mtb_layout_position(&l, 0, 12350000), 1.235, 1e-12);
	EXPECT_NEAR(mtb_layout_position(&l, 1, 12350000), 2.35, 1e-12);
	EXPECT_NEAR(mtb_layout_position(&l, 2, 12350000), 3.5, 1e-12);
}

TEST(Layout, ErrorsNameFileLineAndField)
{
	EXPECT_EQ(parse_error(replace(GOOD, "weight_l: 1,", "weight_l: 2,")),
		  "x.yaml: line 4: field 'rollers[1].weight_l': must be a tenth of the element before it (10000000 uL), got 2000000 uL");
	EXPECT_NE(parse_error(replace(GOOD, "weight_l: 0.1", "weight_l: 0.2")).find("'pointers[0].weight_l'"), std::string::npos);
	EXPECT_NE(parse_error(replace(GOOD, "colour: red }\npointers", "colour: pink }\npointers")).find("'rollers[1].colour': must be 'black' or 'red', got 'pink'"),
		  std::string::npos);
	EXPECT_NE(parse_error(replace(GOOD, "x: 20,", "x: 95,")).find("'rollers[1]': window reaches outside"), std::string::npos);
	EXPECT_NE(parse_error(replace(GOOD, "y: 20, w: 8, h: 10, weight_l: 10 ", "y: 20, w: 8, h: abc, weight_l: 10 ")).find("'rollers[0].h': must be a number"),
		  std::string::npos);
	EXPECT_NE(parse_error(replace(GOOD, "cx: 50", "cx: 97")).find("'pointers[0]': sub-dial reaches outside"), std::string::npos);
	EXPECT_EQ(parse_error(replace(GOOD, "radius: 48", "radius: 70")),
		  "x.yaml: line 3: field 'radius': must be a number within 5-50 % of size, got '70'");
	EXPECT_NE(parse_error(GOOD + "drive: gears\n").find("field 'drive'"), std::string::npos);
	EXPECT_NE(parse_error(replace(GOOD, "weight_l: 0.1", "weight_l: 0.0000001")).find("'pointers[0].weight_l'"), std::string::npos);
	/* Structural errors come from the YAML loader with the file name first. */
	std::string e = parse_error("name: t\nsize: 100\nradius: 48\n");
	EXPECT_EQ(e.rfind("x.yaml: ", 0), 0u) << e;
	EXPECT_NE(e.find("rollers"), std::string::npos) << e;
	e = parse_error(replace(GOOD, "size: 100", "size: [1, 2]"));
	EXPECT_NE(e.find("size"), std::string::npos) << e;
}

TEST(Layout, LoadByNameAndMissing)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_layout_load("no-such-layout", &l, &eb), MTB_ERR_NOTFOUND);
	EXPECT_NE(std::string(eb.msg).find("no-such-layout"), std::string::npos);
}

TEST(Layout, CropRectanglesSurroundTheElements)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_layout_parse(GOOD.data(), GOOD.size(), "x.yaml", &l, &eb), MTB_OK) << eb.msg;
	double x, y, w, h;
	mtb_layout_crop_rect(&l, 0, &x, &y, &w, &h);
	EXPECT_LT(x, 10);
	EXPECT_GT(x + w, 18);
	EXPECT_LT(y, 20);
	EXPECT_GT(y + h, 30);
	mtb_layout_crop_rect(&l, 2, &x, &y, &w, &h);
	EXPECT_NEAR(x + w / 2, 50, 1e-12);
	EXPECT_NEAR(y + h / 2, 60, 1e-12);
	EXPECT_GT(w, 16);
}

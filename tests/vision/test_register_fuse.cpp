/* Fusion of element readings into one volume: roll-over rules, refusals, plausibility against
 * the reference flow, and combination of frames. Readings are synthetic: the positions the
 * layout says each element stands at, plus the errors a reader makes. */
#include "vision/register.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {
struct mtb_layout load(const char *name)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_layout_load((std::string(MTB_SOURCE_DIR "/configs/layouts/") + name + ".yaml").c_str(), &l, &eb),
		  MTB_OK)
		<< eb.msg;
	return l;
}

/* What a perfect reader sees at volume v, each position rounded to the reader's 0.1 steps
 * when `tenths` (as the CNN's 100 classes do). */
std::vector<struct mtb_reading> readings(const struct mtb_layout &l, int64_t v, bool tenths = false)
{
	std::vector<struct mtb_reading> r(mtb_layout_elements(&l));
	for (int i = 0; i < (int)r.size(); i++) {
		double p = mtb_layout_position(&l, i, v);
		if (tenths)
			p = std::fmod(std::round(p * 10) / 10, 10.0);
		r[i] = {};
		r[i].value = p;
		r[i].confidence = 0.95;
	}
	return r;
}

struct mtb_register_result fuse(const struct mtb_layout &l, const std::vector<struct mtb_reading> &r)
{
	struct mtb_register_result out;
	EXPECT_EQ(mtb_register_fuse(&l, r.data(), (int)r.size(), nullptr, &out), MTB_OK);
	return out;
}

const int64_t M3 = 1000000000;   /* uL */
} // namespace

TEST(RegisterFuse, ExactPositionsGiveTheVolumeToTheResolution)
{
	struct mtb_layout l = load("roller8-pointer4");
	for (int64_t v : { INT64_C(0), INT64_C(123456789012), 12345 * M3 + 678901230, INT64_C(99999999999990) }) {
		struct mtb_register_result r = fuse(l, readings(l, v));
		ASSERT_FALSE(r.refused) << r.reason;
		EXPECT_EQ(r.resolution_ul, 10);
		EXPECT_LE(std::llabs(r.volume_ul - v), 5) << v;
		EXPECT_GT(r.confidence, 0.9);
	}
}

/* Every roll-over, with a reader that only gives tenths (so a roller in transfer reads 9.9 or
 * 0.0 early or late): the lower element decides. */
TEST(RegisterFuse, RollOversAreDecidedByTheElementBelow)
{
	struct mtb_layout l = load("roller8-pointer4");
	int n = mtb_layout_elements(&l);
	for (int k = 0; k < n - 1; k++) {
		int64_t w = mtb_layout_weight_ul(&l, k);
		/* 9999.99 -> 10000.00 at every element: just before, at, and just after its turn. */
		for (int64_t base : { w, 7 * w, 10 * w - 10 * w % l.range_ul }) {
			if (base <= 0 || base >= l.range_ul)
				continue;
			for (int64_t d : { -300, -100, -20, 0, 20, 100, 300, -2000, 2000 }) {
				int64_t v = ((base + d) % l.range_ul + l.range_ul) % l.range_ul;
				struct mtb_register_result r = fuse(l, readings(l, v, true));
				ASSERT_FALSE(r.refused) << "k " << k << " v " << v << ": " << r.reason;
				EXPECT_LE(std::llabs(r.volume_ul - v), 5 + 50) << "k " << k << " v " << v;   /* tenths of 100 uL */
			}
		}
	}
}

TEST(RegisterFuse, RollerCaughtHalfWayIsSettledByTheRollerBelow)
{
	struct mtb_layout l = load("roller8-pointer4");
	/* 2.9995 m3 + 0.9 L ... : the 1 m3 roller half way between 2 and 3 (transfer), the 100 L
	   roller half way between 9 and 0, and so on down to the 1 L roller at 9.5. */
	int64_t v = 3 * M3 - 500000;
	auto rd = readings(l, v);
	EXPECT_NEAR(rd[4].value, 2.5, 1e-9);
	struct mtb_register_result r = fuse(l, rd);
	ASSERT_FALSE(r.refused) << r.reason;
	EXPECT_EQ(r.digit[4], 2);
	EXPECT_EQ(r.volume_ul, v);
	/* A reader that sees the half-turned 1 m3 roller as 3.0 (the upper digit) is overruled by the
	   roller below it still before its 9 -> 0: that is a 0.5 error, refused; at 2.6 it is 2
	   (a tenth off: a roller is read to a tenth), at 2.8 (0.3 off) it is refused. */
	rd[4].value = 2.6;
	r = fuse(l, rd);
	ASSERT_FALSE(r.refused) << r.reason;
	EXPECT_EQ(r.digit[4], 2);
	rd[4].value = 2.8;
	r = fuse(l, rd);
	EXPECT_TRUE(r.refused);
	rd[4].value = 3.0;
	r = fuse(l, rd);
	EXPECT_TRUE(r.refused);
	EXPECT_NE(std::string(r.reason).find("roller 5"), std::string::npos) << r.reason;
}

TEST(RegisterFuse, PointerJustPastZeroMeansTheDigitAboveHasTurned)
{
	struct mtb_layout l = load("roller8-pointer4");
	/* 4.0002 L: the 1 L roller has just turned to 4, the 0.1 L pointer stands at 0.002. A digit
	   reader that still sees 3.9 (the roller lagging behind) must give 4, not 3. */
	int64_t v = 4 * 1000000 + 200;
	auto rd = readings(l, v);
	rd[7].value = 3.9;
	struct mtb_register_result r = fuse(l, rd);
	ASSERT_FALSE(r.refused) << r.reason;
	EXPECT_EQ(r.digit[7], 4);
	EXPECT_EQ(r.volume_ul, v);
	/* Just before: the pointer at 9.98, the roller read as 4.0 (ahead) -> 3. */
	v = 4 * 1000000 - 2000;
	rd = readings(l, v);
	rd[7].value = 4.0;
	r = fuse(l, rd);
	ASSERT_FALSE(r.refused) << r.reason;
	EXPECT_EQ(r.digit[7], 3);
	EXPECT_EQ(r.volume_ul, v);
	/* A pointer just past 0 with its upper pointer reading 9.95 (lagging): the upper has turned. */
	v = 5 * 100000 + 100;   /* 0.5001 L: pointer 1 at 5.001, pointer 2 at 0.01 */
	rd = readings(l, v);
	rd[8].value = 4.95;
	r = fuse(l, rd);
	ASSERT_FALSE(r.refused) << r.reason;
	EXPECT_EQ(r.volume_ul, v);
}

TEST(RegisterFuse, RefusesRatherThanGuesses)
{
	struct mtb_layout l = load("roller8-pointer4");
	int64_t v = 31415926535;
	auto rd = readings(l, v);
	/* a refused element */
	rd[3].refused = true;
	snprintf(rd[3].reason, sizeof rd[3].reason, "blank crop");
	struct mtb_register_result r = fuse(l, rd);
	EXPECT_TRUE(r.refused);
	EXPECT_EQ(std::string(r.reason), "roller 4 unreadable: blank crop");
	EXPECT_EQ(r.confidence, 0);
	/* a low confidence */
	rd = readings(l, v);
	rd[9].confidence = 0.3;
	r = fuse(l, rd);
	EXPECT_TRUE(r.refused);
	EXPECT_NE(std::string(r.reason).find("pointer 2: confidence 0.30"), std::string::npos) << r.reason;
	/* a digit between digits while the element below is far from its turn */
	rd = readings(l, v);
	rd[2].value = std::fmod(rd[2].value + 0.5, 10.0);
	r = fuse(l, rd);
	EXPECT_TRUE(r.refused);
	EXPECT_NE(std::string(r.reason).find("roller 3 reads"), std::string::npos) << r.reason;
	/* a value off the circle */
	rd = readings(l, v);
	rd[0].value = 10.0;
	r = fuse(l, rd);
	EXPECT_TRUE(r.refused);
	/* wrong count */
	struct mtb_register_result out;
	EXPECT_EQ(mtb_register_fuse(&l, rd.data(), 3, nullptr, &out), MTB_ERR_ARG);
}

/* Reader noise up to 0.3 division on every element never produces a wrong volume: the reading
 * is either right to the resolution or refused. With the tolerances per kind (rollers 0.2,
 * pointers 0.25) most of these are refused; the next test gives noise at the readers' scale. */
TEST(RegisterFuse, NoisyReadersGiveRightOrRefused)
{
	struct mtb_layout l = load("roller8-pointer4");
	std::mt19937_64 g(12345);
	std::uniform_int_distribution<int64_t> vol(0, l.range_ul - 1);
	std::uniform_real_distribution<double> noise(-0.3, 0.3);
	int right = 0, refused = 0;
	for (int i = 0; i < 20000; i++) {
		int64_t v = vol(g);
		if (i % 2)   /* half next to a roll-over of a random element */
			v = (v / mtb_layout_weight_ul(&l, i % 11) * mtb_layout_weight_ul(&l, i % 11) + (int64_t)(i % 7) * 37 - 100 +
			     l.range_ul) % l.range_ul;
		auto rd = readings(l, v);
		for (auto &e : rd)
			e.value = std::fmod(e.value + noise(g) + 10.0, 10.0);
		struct mtb_register_result r = fuse(l, rd);
		if (r.refused) {
			refused++;
			continue;
		}
		/* the finest pointer's own noise (0.3 division = 30 uL) is the only error left */
		int64_t err = r.volume_ul - v;
		err = ((err % l.range_ul) + l.range_ul + l.range_ul / 2) % l.range_ul - l.range_ul / 2;
		ASSERT_LE(std::llabs(err), 35) << "volume " << v << " read " << r.volume_ul;
		right++;
	}
	EXPECT_GT(right, 100);
	std::printf("noise +-0.3: %d right, %d refused\n", right, refused);
}

/* Noise at the scale the readers have (rollers within +-0.15 of their position, pointers within
 * +-0.2; measured on rendered dials, docs/vision-register.md): every volume right, none refused. */
TEST(RegisterFuse, ReaderScaleNoiseIsNeverRefused)
{
	struct mtb_layout l = load("roller8-pointer4");
	std::mt19937_64 g(54321);
	std::uniform_int_distribution<int64_t> vol(0, l.range_ul - 1);
	std::uniform_real_distribution<double> unit(-1.0, 1.0);
	for (int i = 0; i < 20000; i++) {
		int64_t v = vol(g);
		if (i % 2)
			v = (v / mtb_layout_weight_ul(&l, i % 11) * mtb_layout_weight_ul(&l, i % 11) + (int64_t)(i % 7) * 37 - 100 +
			     l.range_ul) % l.range_ul;
		auto rd = readings(l, v);
		for (int k = 0; k < (int)rd.size(); k++)
			rd[(size_t)k].value = std::fmod(rd[(size_t)k].value + (k < l.n_rollers ? 0.15 : 0.2) * unit(g) + 10.0, 10.0);
		struct mtb_register_result r = fuse(l, rd);
		ASSERT_FALSE(r.refused) << "volume " << v << ": " << r.reason;
		int64_t err = r.volume_ul - v;
		err = ((err % l.range_ul) + l.range_ul + l.range_ul / 2) % l.range_ul - l.range_ul / 2;
		ASSERT_LE(std::llabs(err), 25) << "volume " << v << " read " << r.volume_ul;
	}
}

/* A pointer read half a turn off (its tail taken for its tip) moves the pointer above it by half
 * a division; with that pointer's own reading 0.2 division off towards it, the two fitted within
 * the old tolerance of 0.35 and the volume came out 5 divisions of the lower pointer off. The
 * tolerance for a pointer over a pointer is 0.25: refused. */
TEST(RegisterFuse, PointerReadHalfATurnOffIsRefused)
{
	struct mtb_layout l = load("roller8-pointer4");
	/* 12.3442 L: pointer 3 (1 mL a division) at 4.2, pointer 4 (0.1 mL) at 2.0 */
	int64_t v = 12344200;
	auto rd = readings(l, v, true);
	ASSERT_NEAR(rd[10].value, 4.2, 1e-9);
	ASSERT_NEAR(rd[11].value, 2.0, 1e-9);
	struct mtb_register_result r = fuse(l, rd);
	ASSERT_FALSE(r.refused) << r.reason;
	EXPECT_EQ(r.volume_ul, v);
	rd[11].value = 7.0;   /* the tail */
	rd[10].value = 4.4;   /* 0.2 off, towards the 4.7 the tail calls for */
	r = fuse(l, rd);
	EXPECT_TRUE(r.refused) << "read " << r.volume_ul << " for " << v;
	EXPECT_NE(std::string(r.reason).find("pointer 3 reads 4.40"), std::string::npos) << r.reason;
	/* The rules before: accepted, 0.5 mL off. */
	const struct mtb_register_fuse_opts before = MTB_REGISTER_FUSE_BEFORE;
	ASSERT_EQ(mtb_register_fuse(&l, rd.data(), (int)rd.size(), &before, &r), MTB_OK);
	EXPECT_FALSE(r.refused);
	EXPECT_EQ(r.volume_ul - v, 500);
}

/* A roller is read to a tenth, and a roller whose wheel below stands between 0 and 9 stands on
 * its digit: a reading 0.3 off it is not this roller read right. 5.3 on the top roller while the
 * roller below stands on 4 used to be taken as 5 (the truth being 6: 10 000 m3 off); refused. */
TEST(RegisterFuse, RollerOffItsDigitByMoreThanATenthIsRefused)
{
	struct mtb_layout l = load("roller8-pointer4");
	int64_t v = 64 * 1000 * M3 + 123 * M3;   /* 64 123 m3 */
	auto rd = readings(l, v, true);
	ASSERT_NEAR(rd[0].value, 6.0, 1e-9);
	rd[0].value = 5.3;
	struct mtb_register_result r = fuse(l, rd);
	EXPECT_TRUE(r.refused) << "read " << r.volume_ul;
	EXPECT_NE(std::string(r.reason).find("roller 1 reads 5.30"), std::string::npos) << r.reason;
	const struct mtb_register_fuse_opts before = MTB_REGISTER_FUSE_BEFORE;
	ASSERT_EQ(mtb_register_fuse(&l, rd.data(), (int)rd.size(), &before, &r), MTB_OK);
	EXPECT_FALSE(r.refused);
	EXPECT_EQ(v - r.volume_ul, 10000 * M3);
	/* Read 0.1 off (the reader's tenths) it is still its digit. */
	rd[0].value = 5.9;
	r = fuse(l, rd);
	ASSERT_FALSE(r.refused) << r.reason;
	EXPECT_EQ(r.volume_ul, v);
}

TEST(RegisterFlow, PlausibleAgainstTheReferenceFlow)
{
	struct mtb_layout l = load("roller8-pointer4");
	/* 1500 L/h for 60 s = 25 L. */
	struct mtb_register_prior p = { 1000 * M3, 0, 1500.0, 0.05, 2000 };
	struct mtb_register_result r = {};
	r.t_mono_us = 60000000;
	r.volume_ul = 1000 * M3 + 25 * 1000000 + 400000;   /* +25.4 L: within 5 % */
	EXPECT_EQ(mtb_register_check_flow(&l, &p, &r), MTB_OK);
	EXPECT_FALSE(r.refused);
	r.volume_ul = 1000 * M3 + 35 * 1000000;   /* a misread 10 L roller */
	EXPECT_EQ(mtb_register_check_flow(&l, &p, &r), MTB_ERR_REFUSED);
	EXPECT_TRUE(r.refused);
	EXPECT_NE(std::string(r.reason).find("implausible: moved +35.000000 L"), std::string::npos) << r.reason;
	/* running backwards at standstill */
	r = {};
	p.flow_lph = 0;
	r.t_mono_us = 1000000;
	r.volume_ul = 1000 * M3 - 100000;
	EXPECT_EQ(mtb_register_check_flow(&l, &p, &r), MTB_ERR_REFUSED);
	/* across the register's turn-over */
	r = {};
	p = { l.range_ul - 1000000, 0, 3600.0, 0.05, 2000 };
	r.t_mono_us = 2000000;    /* 2 L later */
	r.volume_ul = 1000000;
	EXPECT_EQ(mtb_register_check_flow(&l, &p, &r), MTB_OK) << r.reason;
}

TEST(RegisterCombine, MedianOfAgreeingFramesAtOneInstant)
{
	struct mtb_layout l = load("roller8-pointer4");
	/* 3600 L/h = 1 uL/us; frames 0.1 s apart read a volume moving 100 000 uL per frame. */
	std::vector<struct mtb_register_result> f(5);
	for (int i = 0; i < 5; i++) {
		f[i] = {};
		f[i].resolution_ul = 10;
		f[i].confidence = 0.9;
		f[i].t_mono_us = 1000000 + i * 100000;
		f[i].volume_ul = 50 * M3 + i * 100000 + (i % 2 ? 20 : -20);
	}
	struct mtb_register_combine_opts o = { 3600.0, 1200000, 100, 0, 0 };
	struct mtb_register_result out;
	ASSERT_EQ(mtb_register_combine(&l, f.data(), 5, &o, &out), MTB_OK);
	ASSERT_FALSE(out.refused) << out.reason;
	EXPECT_LE(std::llabs(out.volume_ul - (50 * M3 + 200000)), 20);
	EXPECT_EQ(out.t_mono_us, 1200000);
	/* One frame 10 L off (a misread roller that fused consistently): refused by default ... */
	f[3].volume_ul += 10 * 1000000;
	ASSERT_EQ(mtb_register_combine(&l, f.data(), 5, &o, &out), MTB_OK);
	EXPECT_TRUE(out.refused);
	EXPECT_NE(std::string(out.reason).find("frames disagree: 4 of 5"), std::string::npos) << out.reason;
	/* ... or outvoted when one disagreement is allowed. */
	o.max_disagree = 1;
	ASSERT_EQ(mtb_register_combine(&l, f.data(), 5, &o, &out), MTB_OK);
	EXPECT_FALSE(out.refused) << out.reason;
	EXPECT_LE(std::llabs(out.volume_ul - (50 * M3 + 200000)), 20);
	/* Too few readable frames. */
	for (int i = 0; i < 3; i++) {
		f[i].refused = true;
		snprintf(f[i].reason, sizeof f[i].reason, "glare");
	}
	ASSERT_EQ(mtb_register_combine(&l, f.data(), 5, &o, &out), MTB_OK);
	EXPECT_TRUE(out.refused);
	EXPECT_NE(std::string(out.reason).find("only 2 of 5 frames readable, 3 needed"), std::string::npos) << out.reason;
}

/* What the readers gave on a rendered dial (dial_eval --seed 7600000, dial 4595, 29 016 751.986541 L):
 * pointers 2 and 3 read by their tails (5 divisions off each), pointer 1 0.33 division off across
 * its zero, every pointer at a confidence of 0.81-0.86. The chain fitted (pointer 2 off by 0.249
 * of the 0.25 allowed) and the volume came out 45 mL high. Weak elements and a strained fit
 * together: the register's confidence 0.41 is below 0.5, refused. */
TEST(RegisterFuse, WeakAndStrainedTogetherIsRefused)
{
	struct mtb_layout l = load("roller8-pointer4");
	const double value[12] = { 1.9, 9.0, 0.0, 1.0, 5.9, 6.9, 5.0, 2.0, 0.2, 3.4, 1.6, 5.1 };
	const double conf[12] = { 0.98, 0.98, 0.97, 0.96, 0.96, 0.97, 0.98, 0.98, 0.86, 0.81, 0.85, 0.81 };
	std::vector<struct mtb_reading> rd(12);
	for (int i = 0; i < 12; i++) {
		rd[(size_t)i] = {};
		rd[(size_t)i].value = value[i];
		rd[(size_t)i].confidence = conf[i];
	}
	struct mtb_register_result r = fuse(l, rd);
	EXPECT_TRUE(r.refused) << "read " << r.volume_ul;
	EXPECT_NE(std::string(r.reason).find("register confidence 0.41 below 0.50"), std::string::npos) << r.reason;
	const struct mtb_register_fuse_opts before = MTB_REGISTER_FUSE_BEFORE;
	ASSERT_EQ(mtb_register_fuse(&l, rd.data(), 12, &before, &r), MTB_OK);
	EXPECT_FALSE(r.refused);
	EXPECT_EQ(r.volume_ul - INT64_C(29016751986541), 44969);
	/* The same pointers with pointer 2 fitting well (3.2 where 3.15 is called for) are taken: the
	 * floor needs weak elements and a strained fit together. */
	rd[9].value = 3.2;
	r = fuse(l, rd);
	EXPECT_FALSE(r.refused) << r.reason;
	EXPECT_GE(r.confidence, 0.5);
}

/* A roller its reader refused only for a low confidence (sure of the half-digit, not of the
 * tenth) is used when the element below puts it between two digits, and only then. */
TEST(RegisterFuse, RollerUnsureOfTheTenthIsUsedOnlyBetweenTwoDigits)
{
	struct mtb_layout l = load("roller8-pointer4");
	int last = l.n_rollers - 1;
	struct mtb_reading unsure = {};
	unsure.refused = true;
	unsure.low_confidence = true;
	unsure.confidence = 0.7;
	unsure.within_half = 0.97;
	std::snprintf(unsure.reason, sizeof unsure.reason, "low confidence (0.70)");

	/* The last roller half-way from 4 to 5, as the first pointer at 5 says. */
	int64_t w = mtb_layout_weight_ul(&l, last);
	int64_t v = 12340 * w + 4 * w + w / 2;
	std::vector<struct mtb_reading> r = readings(l, v, true);
	ASSERT_NEAR(r[last].value, 4.5, 0.051);
	struct mtb_reading keep = r[last];
	unsure.value = 4.4;
	r[last] = unsure;
	struct mtb_register_result out = fuse(l, r);
	ASSERT_FALSE(out.refused) << out.reason;
	EXPECT_LE(std::llabs(out.volume_ul - v), 5);
	EXPECT_LE(out.confidence, 0.97);

	/* Not with the option off, */
	struct mtb_register_fuse_opts off = MTB_REGISTER_FUSE_DEFAULTS;
	off.min_roll_confidence = 0;
	ASSERT_EQ(mtb_register_fuse(&l, r.data(), (int)r.size(), &off, &out), MTB_OK);
	EXPECT_TRUE(out.refused);
	/* nor when the reader is not sure of the half-digit either, */
	r[last].within_half = 0.6;
	out = fuse(l, r);
	EXPECT_TRUE(out.refused);
	EXPECT_NE(std::string(out.reason).find("low confidence"), std::string::npos) << out.reason;
	/* nor when it was refused for another reason (ambiguous, nothing recognised, unstable), */
	r[last].within_half = 0.97;
	r[last].low_confidence = false;
	out = fuse(l, r);
	EXPECT_TRUE(out.refused);

	/* nor when the element below says the roller stands at its digit: then it should show
	 * one clean digit, and not being sure of it is a warning. */
	int64_t v0 = 12340 * w + 4 * w + 3 * w / 100;
	r = readings(l, v0, true);
	unsure.value = 4.0;
	r[last] = unsure;
	out = fuse(l, r);
	EXPECT_TRUE(out.refused);
	EXPECT_NE(std::string(out.reason).find("of the way to the next digit"), std::string::npos) << out.reason;

	/* A roller above another roller is between two digits only while the one below passes 9. */
	r = readings(l, v, true);
	r[last] = keep;
	unsure.value = r[last - 1].value;
	r[last - 1] = unsure;
	out = fuse(l, r);
	EXPECT_TRUE(out.refused);
}

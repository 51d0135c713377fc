/* The neck renderer and the meniscus reader together: the reader measured on rendered necks
 * of known level, with seeds the reader was not developed on (development rendered with seeds
 * around 1e6-1.3e7; the sets here use 8001-8004 and 9001-9004 times 1000003, about 8e9-9e9). */
#include "calibration/vessel.h"
#include "sim/can_sim.h"
#include "sim/neck_render.h"
#include "vision/meniscus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {
struct img_del {
	void operator()(struct mtb_image *i) const { mtb_image_destroy(i); }
};
using img_ptr = std::unique_ptr<struct mtb_image, img_del>;

struct mtb_vessel vessel(const char *name)
{
	struct mtb_vessel v;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_vessel_load(name, &v, &eb), MTB_OK) << eb.msg;
	return v;
}

struct mtb_meniscus_scale scale_of(const struct mtb_vessel &v)
{
	struct mtb_meniscus_scale s = {};
	s.divisions = v.scale.divisions;
	s.long_every = v.scale.long_every;
	s.expected_div = v.scale.nominal_div;
	s.neck_radius_div = v.scale.neck_diameter_mm / 2 / v.scale.division_mm;
	return s;
}

img_ptr render(const struct mtb_vessel &v, double level, const struct mtb_neck_render_opts &o,
	       struct mtb_neck_truth *t = nullptr)
{
	struct mtb_image *img = nullptr;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_neck_render(&v, level, &o, &img, t, &eb), MTB_OK) << eb.msg;
	return img_ptr(img);
}

struct mtb_meniscus_reading read(const struct mtb_image *img, const struct mtb_meniscus_scale &s)
{
	struct mtb_meniscus_reading r;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_meniscus_read(img, &s, &r, &eb), MTB_OK) << eb.msg;
	return r;
}

double uni(uint64_t &s)
{
	s = s * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(s >> 11) * (1.0 / 9007199254740992.0);
}

struct stats {
	int n = 0, refused = 0, within_01 = 0, confident_over_05 = 0;
	double max_err = 0, sum_err = 0, sum_abs = 0;
};

/* Renders n necks of vessel `name` at random levels (the whole scale for a can, +-spread
 * divisions around the nominal line for a cylinder whose view shows a window) and reads them.
 * level_deg: how well the camera is levelled (0: the renderer's 0.2 degree). */
stats measure(const char *name, int n, uint64_t seed, double spread, double level_deg = 0)
{
	struct mtb_vessel v = vessel(name);
	struct mtb_meniscus_scale s = scale_of(v);
	stats st;
	uint64_t r = seed;
	for (int i = 0; i < n; i++) {
		double level = spread < 0 ? 0.3 + uni(r) * (v.scale.divisions - 0.6)
					  : v.scale.nominal_div + (uni(r) * 2 - 1) * spread;
		if (level > v.scale.divisions)
			level = v.scale.divisions - uni(r) * spread;
		struct mtb_neck_render_opts o = {};
		o.seed = seed * 1000003 + i;
		o.nuisance = uni(r);
		o.liquid = uni(r) < 0.5 ? MTB_LIQUID_WATER : MTB_LIQUID_TINTED;
		o.camera_level_deg = level_deg;
		struct mtb_neck_truth t;
		img_ptr img = render(v, level, o, &t);
		struct mtb_meniscus_reading m = read(img.get(), s);
		st.n++;
		if (m.refused) {
			st.refused++;
			continue;
		}
		double e = m.level_div - level;
		st.sum_err += e;
		st.sum_abs += std::fabs(e);
		st.max_err = std::fmax(st.max_err, std::fabs(e));
		if (std::fabs(e) <= 0.1)
			st.within_01++;
		if (std::fabs(e) > 0.5 && m.confidence >= 0.5)
			st.confident_over_05++;
	}
	int rd = std::max(1, st.n - st.refused);
	std::printf("%-16s camera level +-%.2f deg: %4d necks, %3d refused, %5.1f %% of the read within 0.1 division, "
		    "mean error %+.3f, mean |error| %.3f, max %.3f, confident errors > 0.5: %d\n",
		    name, level_deg > 0 ? level_deg : 0.2, st.n, st.refused, 100.0 * st.within_01 / rd, st.sum_err / rd,
		    st.sum_abs / rd, st.max_err, st.confident_over_05);
	return st;
}
} // namespace

TEST(NeckRender, DeterministicAndLevelMoves)
{
	struct mtb_vessel v = vessel("can-20l-ss304-td");
	struct mtb_neck_render_opts o = {};
	o.seed = 5;
	o.nuisance = 0.5;
	img_ptr a = render(v, 10.0, o), b = render(v, 10.0, o), c = render(v, 12.0, o);
	ASSERT_TRUE(a && b && c);
	bool same = true, differ = false;
	for (int y = 0; y < a->height; y++) {
		same = same && memcmp(mtb_image_row(a.get(), y), mtb_image_row(b.get(), y), (size_t)a->width * 3) == 0;
		differ = differ || memcmp(mtb_image_row(a.get(), y), mtb_image_row(c.get(), y), (size_t)a->width * 3) != 0;
	}
	EXPECT_TRUE(same);
	EXPECT_TRUE(differ);
	struct mtb_image *img = nullptr;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_neck_render(&v, 25, &o, &img, nullptr, &eb), MTB_ERR_ARG);
	EXPECT_EQ(img, nullptr);
}

TEST(Meniscus, ReadsACleanCanNeckToAHundredthOfADivision)
{
	struct mtb_vessel v = vessel("can-20l-ss304-td");
	for (double level : { 3.0, 9.37, 10.0, 10.5, 16.81 }) {
		struct mtb_neck_render_opts o = {};
		o.seed = 1234;
		o.liquid = MTB_LIQUID_WATER;
		img_ptr img = render(v, level, o);
		struct mtb_meniscus_reading m = read(img.get(), scale_of(v));
		ASSERT_FALSE(m.refused) << level << ": " << m.reason;
		EXPECT_NEAR(m.level_div, level, 0.05) << level;
		EXPECT_GE(m.confidence, 0.5);
		EXPECT_EQ(m.n_lines >= 15, true) << m.n_lines;
	}
}

TEST(Meniscus, RefusesUnsafeViews)
{
	struct mtb_vessel v = vessel("can-20l-ss304-td");
	struct mtb_meniscus_scale s = scale_of(v);
	const char *what[] = { "tilted", "not level", "glare", "foam" };
	for (int f = 0; f < 4; f++) {
		int refused = 0;
		for (int i = 0; i < 20; i++) {
			struct mtb_neck_render_opts o = {};
			o.seed = 2000 + 100 * f + i;
			o.nuisance = 0.3;
			o.liquid = MTB_LIQUID_WATER;
			if (f == 0)
				o.tilt_deg = (i % 2 ? 1 : -1) * (2.0 + 0.1 * i);
			if (f == 1)
				o.parallax_deg = (i % 2 ? 1 : -1) * (5.0 + 0.2 * i);
			if (f == 2)
				o.glare = 0.6 + 0.02 * i;
			if (f == 3)
				o.foam = 0.6 + 0.02 * i;
			img_ptr img = render(v, 4 + 0.6 * i, o);
			struct mtb_meniscus_reading m = read(img.get(), s);
			if (m.refused)
				refused++;
			else
				EXPECT_NEAR(m.level_div, 4 + 0.6 * i, 0.5) << what[f] << " read confidently wrong, seed " << o.seed;
		}
		std::printf("%s: %d of 20 refused\n", what[f], refused);
		EXPECT_GE(refused, 18) << what[f];
	}
}

TEST(Meniscus, RefusesWhatIsNotANeck)
{
	struct mtb_vessel v = vessel("can-20l-ss304-td");
	struct mtb_image *img = nullptr;
	ASSERT_EQ(mtb_image_create(&img, 240, 480, 3), MTB_OK);
	img_ptr hold(img);
	memset(img->data, 128, img->stride * 480);
	struct mtb_meniscus_reading m = read(img, scale_of(v));
	EXPECT_TRUE(m.refused);
	EXPECT_GT(std::strlen(m.reason), 0u);
	struct mtb_meniscus_scale s = scale_of(v);
	s.read_top = true;
	struct mtb_neck_render_opts o = {};
	img_ptr neck = render(v, 10, o);
	m = read(neck.get(), s);
	EXPECT_TRUE(m.refused);
	EXPECT_NE(std::string(m.reason).find("not implemented"), std::string::npos);
}

/* A camera above the meniscus sees it raised against the lines by r tan(theta) (10.8 divisions
 * x tan(0.25 degree) = 0.047 division on the 1000 mL cylinder, less the lines' own depth where
 * the lattice is fitted): the reader measures the elevation from the lines' curvature and
 * corrects the reading. */
TEST(Meniscus, CorrectsTheParallaxOfACameraAboveTheMeniscus)
{
	struct mtb_vessel v = vessel("cyl-1000ml-b");
	double sum = 0;
	int n = 0;
	for (int i = 0; i < 10; i++) {
		struct mtb_neck_render_opts o = {};
		o.seed = 3100 + i;
		o.liquid = i % 2 ? MTB_LIQUID_WATER : MTB_LIQUID_TINTED;
		o.parallax_deg = 0.25;
		double level = 86.3 + 0.31 * i;
		img_ptr img = render(v, level, o);
		struct mtb_meniscus_reading m = read(img.get(), scale_of(v));
		ASSERT_FALSE(m.refused) << m.reason;
		EXPECT_NEAR(m.elevation_deg, 0.25, 0.05) << "seed " << o.seed;
		EXPECT_NEAR(m.level_div, level, 0.03) << "seed " << o.seed;
		sum += m.level_div - level;
		n++;
	}
	EXPECT_NEAR(sum / n, 0.0, 0.01);
}

/* From below, the far side of the surface shows under its lowest point and lowers the edge the
 * reader takes: a camera 0.1-0.2 degree below the meniscus of the 1000 mL cylinder is refused,
 * never read confidently wrong. A level camera is still read. */
TEST(Meniscus, RefusesACameraBelowTheMeniscusOfAWideTube)
{
	struct mtb_vessel v = vessel("cyl-1000ml-b");
	for (int i = 0; i < 12; i++) {
		struct mtb_neck_render_opts o = {};
		o.seed = 3200 + i;
		o.liquid = MTB_LIQUID_WATER;
		o.parallax_deg = -0.1 - 0.01 * i;
		double level = 86.5 + 0.2 * i;
		img_ptr img = render(v, level, o);
		struct mtb_meniscus_reading m = read(img.get(), scale_of(v));
		EXPECT_TRUE(m.refused) << "read " << m.level_div << " at " << level << ", seed " << o.seed;
		if (m.refused) {
			EXPECT_NE(std::string(m.reason).find("below the meniscus"), std::string::npos) << m.reason;
		}
		o.parallax_deg = 0;
		img_ptr lvl = render(v, level, o);
		m = read(lvl.get(), scale_of(v));
		EXPECT_FALSE(m.refused) << m.reason;
		EXPECT_NEAR(m.level_div, level, 0.05);
	}
}

/* The simulated can's neck camera mounted above or below the meniscus (can.camera_elevation_deg):
 * the reader measures the mounting from the frames. */
TEST(Meniscus, SimulatedCanCameraMounting)
{
	struct mtb_vessel v = vessel("cyl-1000ml-b");
	for (double deg : { 0.2, -0.5 }) {
		struct mtb_sim_can_cfg c;
		mtb_sim_can_defaults(&c, &v);
		c.nuisance = 0;
		c.camera_elevation_deg = deg;
		c.seed = 77;
		struct mtb_sim_can *sc = nullptr;
		struct mtb_errbuf eb = {};
		ASSERT_EQ(mtb_sim_can_create(&sc, &c, &eb), MTB_OK) << eb.msg;
		mtb_sim_can_set_fill(sc, true);
		while (mtb_sim_can_level_div(sc) < 88.0)
			mtb_sim_can_advance(sc, 100000);
		mtb_sim_can_set_fill(sc, false);
		struct mtb_image *img = nullptr;
		ASSERT_EQ(mtb_sim_can_render(sc, &img, &eb), MTB_OK) << eb.msg;
		img_ptr hold(img);
		struct mtb_meniscus_reading m = read(img, scale_of(v));
		if (deg > 0) {
			ASSERT_FALSE(m.refused) << m.reason;
			EXPECT_NEAR(m.elevation_deg, deg, 0.05);
			EXPECT_NEAR(m.level_div, mtb_sim_can_level_div(sc), 0.05);
		} else {
			EXPECT_TRUE(m.refused);
			EXPECT_NE(std::string(m.reason).find("below the meniscus"), std::string::npos) << m.reason;
		}
		mtb_sim_can_destroy(sc);
	}
}

/* Held-out seeds (see the top of the file): no confident reading off by more than 0.5
 * division anywhere, and 95 % of the read within 0.1 division (the target of issue 7), the
 * cylinders with the camera levelled to +-0.2 degree; the camera below the meniscus of a wide
 * cylinder is refused (about a fifth of the views at +-0.2 degree), measured in full by the
 * figures below. */
TEST(Meniscus, HeldOutRenderedNecks)
{
	stats a = measure("can-20l-ss304-td", 40, 8001, -1);
	stats b = measure("can-5l-ss316-td", 20, 8002, -1);
	stats c = measure("cyl-100ml-a", 20, 8003, 2.0);
	stats d = measure("cyl-1000ml-b", 40, 8004, 2.0);
	for (const stats *s : { &a, &b, &c, &d }) {
		int read_n = s->n - s->refused;
		EXPECT_EQ(s->confident_over_05, 0);
		EXPECT_LE(s->refused, (s == &c || s == &d ? s->n / 3 : s->n / 10));
		EXPECT_GE(s->within_01, 0.95 * read_n);
	}
}

/* The full figures (scripts/bench.d/meniscus runs this): thousands of held-out necks. */
TEST(Meniscus, DISABLED_Figures)
{
	/* A measurement, run on demand (docs/cans.md); it checks only that every neck was read or refused. */
	EXPECT_EQ(measure("can-20l-ss304-td", 1000, 9001, -1).n, 1000);
	EXPECT_EQ(measure("can-5l-ss316-td", 500, 9002, -1).n, 500);
	EXPECT_EQ(measure("cyl-100ml-a", 500, 9003, 2.0).n, 500);
	EXPECT_EQ(measure("cyl-100ml-a", 500, 9003, 2.0, 0.1).n, 500);
	EXPECT_EQ(measure("cyl-1000ml-b", 500, 9004, 2.0).n, 500);
	EXPECT_EQ(measure("cyl-1000ml-b", 500, 9004, 2.0, 0.1).n, 500);
}

#include "sim/dial_render.h"

#include <gtest/gtest.h>

#include <pthread.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace {
struct img_del {
	void operator()(struct mtb_image *i) const { mtb_image_destroy(i); }
};
using img_ptr = std::unique_ptr<struct mtb_image, img_del>;

struct mtb_layout load_layout(const char *name)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_layout_load((std::string(MTB_SOURCE_DIR "/configs/layouts/") + name + ".yaml").c_str(), &l, &eb),
		  MTB_OK)
		<< eb.msg;
	return l;
}

bool same_pixels(const struct mtb_image *a, const struct mtb_image *b)
{
	if (a->width != b->width || a->height != b->height || a->channels != b->channels)
		return false;
	for (int y = 0; y < a->height; y++)
		if (memcmp(mtb_image_row(a, y), mtb_image_row(b, y), (size_t)a->width * a->channels) != 0)
			return false;
	return true;
}

double mean_abs_diff(const struct mtb_image *a, const struct mtb_image *b)
{
	double s = 0;
	for (int y = 0; y < a->height; y++)
		for (int x = 0; x < a->width * 3; x++)
			s += std::abs(mtb_image_row(a, y)[x] - mtb_image_row(b, y)[x]);
	return s / (a->width * a->height * 3.0);
}

img_ptr element(const struct mtb_layout &l, int e, double pos, int style, uint64_t seed, double nuisance)
{
	struct mtb_dial_render_opts o = { 0, 0, style, seed, nuisance };
	struct mtb_image *img = nullptr;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_dial_render_element(&l, e, pos, &o, &img, &eb), MTB_OK) << eb.msg;
	return img_ptr(img);
}
} // namespace

TEST(DialRender, SameSeedSamePixelsOtherSeedOtherPixels)
{
	struct mtb_layout l = load_layout("roller8-pointer4");
	struct mtb_dial_render_opts o = { 320, 240, MTB_DIAL_STYLE_RANDOM, 42, 1.0 };
	struct mtb_image *a, *b, *c;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_dial_render(&l, 123456789, &o, &a, nullptr, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_dial_render(&l, 123456789, &o, &b, nullptr, &eb), MTB_OK) << eb.msg;
	o.seed = 43;
	ASSERT_EQ(mtb_dial_render(&l, 123456789, &o, &c, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(a->width, 320);
	EXPECT_EQ(a->height, 240);
	EXPECT_EQ(a->channels, 3);
	EXPECT_TRUE(same_pixels(a, b));
	EXPECT_FALSE(same_pixels(a, c));
	mtb_image_destroy(a);
	mtb_image_destroy(b);
	mtb_image_destroy(c);
}

TEST(DialRender, TruthFollowsTheLayoutAndTheCamera)
{
	struct mtb_layout l = load_layout("roller8-pointer4");
	for (int style = 0; style < MTB_DIAL_STYLE_COUNT; style++) {
		struct mtb_dial_render_opts o = { 400, 400, style, 7, 0.0 };
		struct mtb_image *img;
		struct mtb_dial_truth t;
		struct mtb_errbuf eb = {};
		int64_t v = INT64_C(9999999950);   /* 9.99999995 m3: a roll-over under way */
		ASSERT_EQ(mtb_dial_render(&l, v, &o, &img, &t, &eb), MTB_OK) << eb.msg;
		EXPECT_EQ(t.style, style);
		ASSERT_EQ(t.n_elements, 12);
		for (int i = 0; i < 12; i++)
			EXPECT_DOUBLE_EQ(t.position[i], mtb_layout_position(&l, i, v)) << i;
		/* Clean: the face centre lands on the image centre, no rotation. */
		double c = l.size / 2, w = t.face_to_px[6] * c + t.face_to_px[7] * c + t.face_to_px[8];
		EXPECT_NEAR((t.face_to_px[0] * c + t.face_to_px[1] * c + t.face_to_px[2]) / w, 200, 1e-6);
		EXPECT_NEAR((t.face_to_px[3] * c + t.face_to_px[4] * c + t.face_to_px[5]) / w, 200, 1e-6);
		EXPECT_NEAR(t.face_to_px[3], 0, 1e-9);
		mtb_image_destroy(img);
	}
	/* With nuisance the camera moves, and the truth says where. */
	struct mtb_dial_render_opts o = { 400, 400, MTB_DIAL_STYLE_RANDOM, 11, 1.0 };
	struct mtb_image *img;
	struct mtb_dial_truth t;
	struct mtb_errbuf eb = {};
	bool moved = false;
	for (uint64_t s = 1; s < 6 && !moved; s++) {
		o.seed = s;
		ASSERT_EQ(mtb_dial_render(&l, 5, &o, &img, &t, &eb), MTB_OK) << eb.msg;
		moved = std::abs(t.face_to_px[3]) > 1e-3 || t.face_to_px[6] != 0;
		mtb_image_destroy(img);
	}
	EXPECT_TRUE(moved);
}

/* The pointer is drawn where its label says: the pixels that darken when the pointer stands at
 * p rather than at p + 5 lie in the direction p divisions clockwise from the top. */
TEST(DialRender, PointerCropLabelIsWhereThePointerIs)
{
	struct mtb_layout l = load_layout("roller8-pointer4");
	for (int style = 0; style < MTB_DIAL_STYLE_COUNT; style++)
		for (double p : { 0.0, 1.3, 2.5, 4.9, 7.2, 9.8 }) {
			img_ptr a = element(l, 9, p, style, 5, 0.0);
			img_ptr b = element(l, 9, std::fmod(p + 5.0, 10.0), style, 5, 0.0);
			double sx = 0, sy = 0, cx = a->width / 2.0, cy = a->height / 2.0;
			for (int y = 0; y < a->height; y++)
				for (int x = 0; x < a->width; x++) {
					/* Green channel: low under red and black pointers alike. */
					double d = (double)mtb_image_row(b.get(), y)[3 * x + 1] - mtb_image_row(a.get(), y)[3 * x + 1];
					if (d > 40) {
						sx += d * (x + 0.5 - cx);
						sy += d * (y + 0.5 - cy);
					}
				}
			double ang = std::atan2(sx, -sy);   /* clockwise from up */
			double got = std::fmod(ang / (2 * M_PI) * 10.0 + 10.0, 10.0);
			double err = std::abs(got - p);
			err = std::min(err, 10.0 - err);
			EXPECT_LT(err, 0.15) << "style " << style << " p " << p << " got " << got;
		}
}

/* The roller turns continuously: just below a digit looks like the digit, the roll through 9
 * arrives at 0, and different digits look different. */
TEST(DialRender, RollerCropsRollContinuously)
{
	struct mtb_layout l = load_layout("roller8-pointer4");
	for (int e : { 2, 6 }) {
		img_ptr d[10];
		for (int k = 0; k < 10; k++)
			d[k] = element(l, e, k, MTB_DIAL_STYLE_CLASSIC, 9, 0.0);
		for (int k = 0; k < 10; k++) {
			img_ptr almost = element(l, e, std::fmod(k + 9.996, 10.0), MTB_DIAL_STYLE_CLASSIC, 9, 0.0);
			double near_ = mean_abs_diff(almost.get(), d[k].get());
			EXPECT_LT(near_, 3.0) << "element " << e << " digit " << k;
			for (int j = 0; j < 10; j++) {
				if (j != k) {
					EXPECT_GT(mean_abs_diff(d[j].get(), d[k].get()), 4 * near_ + 2.0) << k << " vs " << j;
				}
			}
			/* Half way, the crop differs from both neighbours. */
			img_ptr half = element(l, e, k + 0.5, MTB_DIAL_STYLE_CLASSIC, 9, 0.0);
			EXPECT_GT(mean_abs_diff(half.get(), d[k].get()), 4.0);
			EXPECT_GT(mean_abs_diff(half.get(), d[(k + 1) % 10].get()), 4.0);
		}
	}
}

TEST(DialRender, RefusesBadArguments)
{
	struct mtb_layout l = load_layout("roller8-pointer4");
	struct mtb_dial_render_opts o = { 0, 0, 99, 1, 0.5 };
	struct mtb_image *img;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_dial_render(&l, 0, &o, &img, nullptr, &eb), MTB_ERR_ARG);
	EXPECT_EQ(img, nullptr);
	o.style = 0;
	o.nuisance = 1.5;
	EXPECT_EQ(mtb_dial_render(&l, 0, &o, &img, nullptr, &eb), MTB_ERR_ARG);
	o.nuisance = 0;
	EXPECT_EQ(mtb_dial_render_element(&l, 12, 1.0, &o, &img, &eb), MTB_ERR_ARG);
	EXPECT_EQ(mtb_dial_render_element(&l, 0, 10.0, &o, &img, &eb), MTB_ERR_ARG);
	EXPECT_NE(std::string(eb.msg).find("position"), std::string::npos);
	int s;
	EXPECT_EQ(mtb_dial_style_parse("cream", &s), MTB_OK);
	EXPECT_EQ(s, MTB_DIAL_STYLE_CREAM);
	EXPECT_EQ(mtb_dial_style_parse("plaid", &s), MTB_ERR_ARG);
}

/* The simulator renders camera frames on threads of MTB_DIAL_RENDER_STACK_BYTES (sim/sim_http.c)
 * because an HTTP worker's 100 kB overflowed inside FreeType. The deepest stack a render of every
 * face style reaches, glyphs loaded cold at several sizes, including the frame that crashed the
 * simulator (style grey, seed and volume as logged), must leave half of that stack unused. */
struct stack_job {
	const struct mtb_layout *l;
	int failures;
};

static void *render_many(void *arg)
{
	auto *j = static_cast<stack_job *>(arg);
	const struct { int style; uint64_t seed; int64_t volume_ul; } frames[] = {
		{ MTB_DIAL_STYLE_GREY, 20418347615045ull, 7476278809ll },
		{ MTB_DIAL_STYLE_CLASSIC, 1, 0 },
		{ MTB_DIAL_STYLE_CREAM, 2, 123456789 },
		{ MTB_DIAL_STYLE_BLUE, 3, 99999999999ll },
		{ MTB_DIAL_STYLE_GREY, 4, 5000000 },
	};
	for (const auto &f : frames)
		for (int size : { 640, 320, 1024 }) {
			struct mtb_dial_render_opts o = { size, size * 3 / 4, f.style, f.seed, 0.15 };
			struct mtb_image *img = nullptr;
			struct mtb_errbuf eb = {};
			if (mtb_dial_render(j->l, f.volume_ul, &o, &img, nullptr, &eb) != MTB_OK)
				j->failures++;
			mtb_image_destroy(img);
		}
	return nullptr;
}

TEST(DialRender, RenderUsesLessThanHalfOfItsStack)
{
	struct mtb_layout l = load_layout("roller8-pointer4");
	const size_t size = MTB_DIAL_RENDER_STACK_BYTES;
	std::vector<unsigned char> stack(size, 0xA5);
	pthread_attr_t attr;
	ASSERT_EQ(pthread_attr_init(&attr), 0);
	ASSERT_EQ(pthread_attr_setstack(&attr, stack.data(), size), 0);
	stack_job j = { &l, 0 };
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, &attr, render_many, &j), 0);
	pthread_join(th, nullptr);
	pthread_attr_destroy(&attr);
	EXPECT_EQ(j.failures, 0);
	size_t untouched = 0;   /* the stack grows down: count the painted bytes from the bottom */
	while (untouched < size && stack[untouched] == 0xA5)
		untouched++;
	size_t used = size - untouched;
	RecordProperty("stack_used_bytes", std::to_string(used));
	std::printf("deepest stack of a render: %zu bytes of %zu\n", used, size);
	EXPECT_LT(used, size / 2);
}

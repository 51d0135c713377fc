/* mtb_register_read on rendered dials with a reader double: the double checks that each crop it
 * is handed shows the element it stands for (correlation with the crop cut from the same frame
 * through the renderer's true pose) and answers the true position. So alignment, cropping, the order of the
 * calls and the fusion are tested together, without a trained model. */
#include "sim/dial_render.h"
#include "vision/register.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace {
struct double_reader {
	const struct mtb_layout *l;
	const struct mtb_image *frame;
	struct mtb_dial_truth truth;
	int next;                 /* element the next call is for */
	double ncc[MTB_LAYOUT_MAX_ELEMENTS];
	int refuse_element;       /* -1: none */
	int batches, batch_crops; /* calls to the batch readers, crops they were handed */
	int checked_from, checked; /* the checking reader: first element it was handed, how many */
};

double grey(const struct mtb_image *im, int x, int y)
{
	const uint8_t *p = mtb_image_row(im, y) + 3 * x;
	return 0.114 * p[0] + 0.587 * p[1] + 0.299 * p[2];
}

/* Normalised correlation of a and b over their overlap when b is moved by (dx, dy). */
double ncc_at(const struct mtb_image *a, const struct mtb_image *b, int dx, int dy)
{
	double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
	int n = 0;
	for (int y = 6; y < a->height - 6; y++)
		for (int x = 6; x < a->width - 6; x++) {
			double u = grey(a, x, y), v = grey(b, x + dx, y + dy);
			sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v, n++;
		}
	double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
	return cov / std::sqrt(va * vb + 1e-9);
}

/* The best correlation within +-5 pixels: the aligner's crops may sit a few pixels off (its
 * accuracy is measured in test_register_align); a crop of the wrong element may not. */
double ncc(const struct mtb_image *a, const struct mtb_image *b)
{
	double best = -1;
	for (int dy = -5; dy <= 5; dy++)
		for (int dx = -5; dx <= 5; dx++)
			best = std::max(best, ncc_at(a, b, dx, dy));
	return best;
}

int answer(void *user, const struct mtb_image *crop, struct mtb_reading *out)
{
	auto *d = static_cast<double_reader *>(user);
	int i = d->next++;
	memset(out, 0, sizeof *out);
	struct mtb_register_pose truth_pose;
	memcpy(truth_pose.h, d->truth.face_to_px, sizeof truth_pose.h);
	struct mtb_image *ref = nullptr;
	struct mtb_errbuf eb = {};
	if (mtb_register_crop(d->l, d->frame, &truth_pose, i, crop->width, crop->height, &ref, &eb) != MTB_OK)
		return MTB_ERR_ARG;
	d->ncc[i] = ncc(crop, ref);
	mtb_image_destroy(ref);
	if (i == d->refuse_element) {
		out->refused = true;
		snprintf(out->reason, sizeof out->reason, "glare over the digit");
		return MTB_OK;
	}
	out->value = d->truth.position[i];
	out->confidence = 0.9;
	return MTB_OK;
}
/* The batch readers of the double: every crop of a kind in one call, in element order. */
int answer_all(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	auto *d = static_cast<double_reader *>(user);
	d->batches++;
	d->batch_crops += n;
	for (int i = 0; i < n; i++) {
		int rc = answer(user, crops[i], &out[i]);
		if (rc != MTB_OK)
			return rc;
	}
	return MTB_OK;
}
/* The checking reader of the double: records which elements it was handed. */
int check_all(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	auto *d = static_cast<double_reader *>(user);
	d->checked_from = d->next;
	d->checked += n;
	return answer_all(user, crops, n, out);
}
} // namespace

TEST(RegisterRead, CropsShowTheirElementsAndTheVolumeComesOut)
{
	struct mtb_layout l;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_layout_load(MTB_SOURCE_DIR "/configs/layouts/roller8-pointer4.yaml", &l, &eb), MTB_OK);
	int low = 0, total = 0;
	for (int s = 0; s < 8; s++) {
		int64_t v = INT64_C(9999999999950) + s * INT64_C(37000013);   /* around 9 999.99999995 m3 */
		struct mtb_dial_render_opts o = { 480, 480, s % MTB_DIAL_STYLE_COUNT, 3000u + s, 0.6 };
		struct mtb_image *img;
		double_reader d = {};
		d.l = &l;
		d.refuse_element = -1;
		ASSERT_EQ(mtb_dial_render(&l, v, &o, &img, &d.truth, &eb), MTB_OK) << eb.msg;
		d.frame = img;
		struct mtb_register_readers rd = { answer, answer, &d };
		struct mtb_register_result r;
		ASSERT_EQ(mtb_register_read(&l, img, &rd, nullptr, &r, &eb), MTB_OK) << eb.msg;
		EXPECT_EQ(d.next, 12);
		ASSERT_FALSE(r.refused) << r.reason;
		EXPECT_LE(std::llabs(r.volume_ul - v % l.range_ul), 5) << "seed " << s;
		for (int i = 0; i < 12; i++) {
			total++;
			/* A crop one window off or upside down correlates far below this. */
			if (d.ncc[i] < 0.8) {
				low++;
				std::printf("seed %d element %d: correlation %.2f\n", s, i, d.ncc[i]);
			}
		}
		double ncc_single[MTB_LAYOUT_MAX_ELEMENTS];
		memcpy(ncc_single, d.ncc, sizeof ncc_single);
		/* One refused element refuses the register, naming it. */
		d.next = 0;
		d.refuse_element = 6;
		ASSERT_EQ(mtb_register_read(&l, img, &rd, nullptr, &r, &eb), MTB_OK) << eb.msg;
		EXPECT_TRUE(r.refused);
		EXPECT_EQ(std::string(r.reason), "roller 7 unreadable: glare over the digit");
		/* The same through the batch readers: one call for the 8 rollers, one for the 4
		 * pointers, the same crops (checked by the double) and the same volume. */
		struct mtb_register_readers rb = { answer, answer, &d, answer_all, answer_all };
		d.next = 0;
		d.refuse_element = -1;
		ASSERT_EQ(mtb_register_read(&l, img, &rb, nullptr, &r, &eb), MTB_OK) << eb.msg;
		EXPECT_EQ(d.batches, 2);
		EXPECT_EQ(d.batch_crops, 12);
		ASSERT_FALSE(r.refused) << r.reason;
		EXPECT_LE(std::llabs(r.volume_ul - v % l.range_ul), 5) << "seed " << s;
		for (int i = 0; i < 12; i++)
			EXPECT_EQ(d.ncc[i], ncc_single[i]) << "seed " << s << " element " << i;
		/* With a checking reader: pointers 1-3 go to it in one call, the finest pointer alone
		 * to the pointers' reader; the same crops and the same volume. */
		struct mtb_register_readers rc = { answer, answer, &d, answer_all, answer_all, check_all };
		d.next = d.batches = d.batch_crops = 0;
		ASSERT_EQ(mtb_register_read(&l, img, &rc, nullptr, &r, &eb), MTB_OK) << eb.msg;
		EXPECT_EQ(d.batches, 3);   /* rollers, pointers 1-3 (check_all), the finest pointer */
		EXPECT_EQ(d.batch_crops, 12);
		EXPECT_EQ(d.checked_from, 8);
		EXPECT_EQ(d.checked, 3);
		ASSERT_FALSE(r.refused) << r.reason;
		EXPECT_LE(std::llabs(r.volume_ul - v % l.range_ul), 5) << "seed " << s;
		for (int i = 0; i < 12; i++)
			EXPECT_EQ(d.ncc[i], ncc_single[i]) << "seed " << s << " element " << i;
		d.checked = 0;
		mtb_image_destroy(img);
	}
	EXPECT_LE(low, total / 20) << low << " of " << total << " crops do not look like their element";
}

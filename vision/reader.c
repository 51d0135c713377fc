/* meterbench vision: the digit and pointer readers. OpenCV resizes and runs the network
 * (cv_wrap.cpp); everything that decides (normalisation, the reading, its confidence, the
 * refusal) is here.
 *
 * The network gives a probability for each tenth of the circle of 10 and one for "nothing
 * readable". The reading is the peak of the probabilities summed over three neighbouring
 * tenths, refined by the circular mean of +-0.3 around it and rounded to a tenth. Its
 * confidence is the probability within +-0.2 of it (the labels themselves are only good to
 * about +-0.1). It is refused when
 *   - "nothing readable" is likely (blank, noise, a crop of something else),
 *   - a second peak more than one digit away carries real mass (a 3 that could be an 8: two
 *     digits not adjacent on the circle, where any answer would be a guess), or
 *   - the confidence is low.
 * A roller between 2 and 3 puts its mass around 2.9-3.0: adjacent, so it is read, not refused;
 * the register logic decides between 2 and 3 with the next lower digit.
 *
 * A reader may have a second network (digit.2.onnx beside digit.onnx): trained apart, with
 * another shape, it errs on other crops. Both read the same views; their probabilities are
 * averaged like views, and a crop on which they disagree by more than half a digit is refused
 * ("unstable"), as views that disagree are. */
#include "vision/vision.h"

#include "cv_wrap_priv.h"
#include "reader_priv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Digits: chosen on the validation folders (docs/model-card.md), where confident errors came
 * from rollers half-way between two digits of a face the networks had not seen. */
const struct mtb_reader_rules mtb_reader_digit_rules = {
	.min_confidence = 0.90, .max_other_mode = 0.05, .max_reject = 0.50, .what = "digit",
};
const struct mtb_reader_rules mtb_reader_needle_rules = {
	.min_confidence = 0.60, .max_other_mode = 0.10, .max_reject = 0.50, .what = "pointer",
};

/* A crop whose pixels vary less than this (standard deviation, grey levels) shows nothing. */
#define MIN_CONTRAST 4.0

/* Views of one crop: at most this many. Crops read together: at most this many per network
 * pass (a longer list is read in passes of this many). */
#define MAX_VIEWS 4
#define MAX_BATCH 16
/* Networks of one reader: NAME.onnx and, optionally, NAME.2.onnx. */
#define MAX_NETS 2

/* The first view of a crop is trusted alone (mtb_vision_set_cascade) only when its reading is
 * this sure: confidence at least `sure`, and next to nothing on "nothing readable" or around any
 * position more than one digit away (its +-0.2 mass, struct mtb_reading.other). */
#define SURE_MAX_REJECT 0.02
#define SURE_MAX_OTHER 0.02

struct mtb_vision {
	struct mtb_cvw_net *digit[MAX_NETS];    /* [0] absent: no digit reader; [1] optional */
	struct mtb_cvw_net *needle[MAX_NETS];
	char model_dir[400];
	double sure;               /* cascade: 0 = every view of every crop */
	double check_sure;         /* the same for the pointers a register only checks */
	float input[MAX_BATCH * MAX_VIEWS * 3 * MTB_READER_MAX_PIXELS];
	float prob[MAX_BATCH * MAX_VIEWS * MTB_READER_CLASSES];
	/* per view and network (view k of network j at k * n_nets + j), turned back */
	float view_p[MAX_BATCH][MAX_VIEWS * MAX_NETS][MTB_READER_CLASSES];
	unsigned char pixels[3 * MTB_READER_MAX_PIXELS];
};

double mtb_reader_circ_dist(double a, double b)
{
	double d = fmod(fabs(a - b), 10.0);
	return d > 5.0 ? 10.0 - d : d;
}

static int wrap(int k)
{
	return ((k % MTB_READER_TENTHS) + MTB_READER_TENTHS) % MTB_READER_TENTHS;
}

static void refuse(struct mtb_reading *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct mtb_reading *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	out->refused = true;
	out->low_confidence = false;
	vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
}

void mtb_reader_decide(const float *p, const struct mtb_reader_rules *rules, struct mtb_reading *out)
{
	memset(out, 0, sizeof *out);
	/* Peak of the three-tenth sums. */
	int best = 0;
	double best_s = -1.0;
	for (int k = 0; k < MTB_READER_TENTHS; k++) {
		double s = (double)p[wrap(k - 1)] + p[k] + p[wrap(k + 1)];
		if (s > best_s) {
			best_s = s;
			best = k;
		}
	}
	/* Circular mean within +-0.3 of the peak. */
	double num = 0.0, den = 0.0;
	for (int d = -3; d <= 3; d++) {
		double q = p[wrap(best + d)];
		num += d * q;
		den += q;
	}
	double mu = best + (den > 0.0 ? num / den : 0.0);
	int tenths = wrap((int)lround(mu));
	double conf = 0.0;
	for (int d = -2; d <= 2; d++)
		conf += p[wrap(tenths + d)];
	if (conf > 1.0)
		conf = 1.0;
	/* Within +-0.5: the ends of that window count half, so that it is one digit wide. */
	double half = 0.5 * ((double)p[wrap(tenths - 5)] + p[wrap(tenths + 5)]);
	for (int d = -4; d <= 4; d++)
		half += p[wrap(tenths + d)];
	/* The most likely tenth more than one digit (10 tenths) away from the reading. */
	double other = 0.0;
	int other_k = -1;
	for (int k = 0; k < MTB_READER_TENTHS; k++) {
		if (mtb_reader_circ_dist(k / 10.0, tenths / 10.0) <= 1.0)
			continue;
		double s = p[k];
		if (s > other) {
			other = s;
			other_k = k;
		}
	}
	if (other_k >= 0)   /* its mass: +-0.2 around it, as for the reading's confidence */
		other = (double)p[wrap(other_k - 2)] + p[wrap(other_k - 1)] + p[other_k] + p[wrap(other_k + 1)] +
			p[wrap(other_k + 2)];
	out->value = tenths / 10.0;
	out->confidence = conf;
	out->other = other_k >= 0 ? fmin(other, 1.0) : 0.0;
	out->within_half = fmin(half, 1.0);
	double reject = p[MTB_READER_TENTHS];
	if (reject > rules->max_reject)
		refuse(out, "unreadable crop: no %s recognised (p=%.2f)", rules->what, reject);
	else if (other > rules->max_other_mode && other_k >= 0)
		refuse(out, "ambiguous: %.1f or %.1f", tenths / 10.0, other_k / 10.0);
	else if (conf < rules->min_confidence) {
		refuse(out, "low confidence (%.2f)", conf);
		out->low_confidence = true;
	}
	if (out->refused)
		out->confidence = conf < 1.0 - reject ? conf : 1.0 - reject;
}

/* --------------------------------------------------------------- models */

static int load_net(const char *dir, const char *name, int w, int h, struct mtb_cvw_net **out,
		    struct mtb_errbuf *eb)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct stat st;
	if (stat(path, &st) != 0) {
		*out = NULL;
		return MTB_OK;     /* absent: that reader reports it when asked */
	}
	int rc = mtb_cvw_net_load(path, out, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", path);
	/* A model must take our input size and give our classes. */
	float *zeros = calloc((size_t)3 * w * h, sizeof *zeros);
	float probe[MTB_READER_CLASSES];
	if (!zeros)
		rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	else
		rc = mtb_cvw_net_run(*out, zeros, 1, 3, h, w, probe, MTB_READER_CLASSES, eb);
	free(zeros);
	if (rc != MTB_OK) {
		mtb_cvw_net_destroy(*out);
		*out = NULL;
		return mtb_errbuf_prefix(eb, rc, "%s: not a %dx%d reader with %d classes", path, w, h, MTB_READER_CLASSES);
	}
	return MTB_OK;
}

int mtb_vision_create(struct mtb_vision **out, const char *model_dir, struct mtb_errbuf *eb)
{
	if (!out)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "vision: no output");
	*out = NULL;
	if (!model_dir)
		model_dir = getenv("MTB_MODEL_DIR");
	if (!model_dir || !*model_dir)
		model_dir = MTB_SOURCE_MODEL_DIR;
	struct mtb_vision *v = calloc(1, sizeof *v);
	if (!v)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "vision: out of memory");
	snprintf(v->model_dir, sizeof v->model_dir, "%s", model_dir);
	v->sure = MTB_VISION_CASCADE_SURE;
	v->check_sure = MTB_VISION_CHECK_SURE;
	static const char *const names[2][MAX_NETS] = { { "digit.onnx", "digit.2.onnx" },
							  { "needle.onnx", "needle.2.onnx" } };
	int rc = MTB_OK;
	for (int j = 0; j < MAX_NETS && rc == MTB_OK; j++) {
		rc = load_net(model_dir, names[0][j], MTB_DIGIT_W, MTB_DIGIT_H, &v->digit[j], eb);
		if (rc == MTB_OK)
			rc = load_net(model_dir, names[1][j], MTB_NEEDLE_W, MTB_NEEDLE_H, &v->needle[j], eb);
	}
	for (int k = 0; k < 2 && rc == MTB_OK; k++) {
		struct mtb_cvw_net *const *nets = k == 0 ? v->digit : v->needle;
		if (!nets[0] && nets[1])
			rc = mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "%s: %s without %s", model_dir, names[k][1], names[k][0]);
	}
	if (rc == MTB_OK && !v->digit[0] && !v->needle[0])
		rc = mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "%s: no digit.onnx or needle.onnx", model_dir);
	if (rc != MTB_OK) {
		mtb_vision_destroy(v);
		return rc;
	}
	*out = v;
	return MTB_OK;
}

void mtb_vision_destroy(struct mtb_vision *v)
{
	if (!v)
		return;
	for (int j = 0; j < MAX_NETS; j++) {
		mtb_cvw_net_destroy(v->digit[j]);
		mtb_cvw_net_destroy(v->needle[j]);
	}
	free(v);
}

/* --------------------------------------------------------------- reading */

/* How a crop is looked at: a roller in its window as given (on the validation folders two more,
 * slightly tighter framings gained less than a second network, docs/model-card.md); a pointer
 * as given and mirrored left to right (a mirror image shows position t at 10 - t without any
 * interpolation, so it is the same crop seen by the network turning the other way; averaging
 * the two cancels part of the network's orientation-dependent error). Views turned half round
 * were dropped: each alone reads worse than the crop as given (an upside-down picture, lit from
 * below), and on both validation pointers the crop and its mirror image read
 * better than those two with their half turns, for half the network work (docs/model-card.md).
 * All views of a crop run in one batch. */
struct view {
	double inset_x, inset_y;   /* fraction of the width / height cut from each side */
	int quarter_turns;         /* clockwise, after the mirror */
	int mirror;                /* 1: mirrored left to right first */
};
static const struct view DIGIT_VIEWS[] = { { 0.0, 0.0, 0, 0 } };
static const struct view NEEDLE_VIEWS[] = { { 0.0, 0.0, 0, 0 }, { 0.0, 0.0, 0, 1 } };
#define MAX_VIEW_SPREAD 0.5

/* Resizes one framing of the crop to the network's w x h into v->pixels; *mean_out and
 * *sd_out get the pixels' mean and standard deviation over all channels, *contrast_out the
 * spread within each channel (a flat coloured crop has none, although its channels differ). */
static int resize_view(struct mtb_vision *v, const struct mtb_image *crop, const struct view *vw, int w, int h,
		       double *mean_out, double *sd_out, double *contrast_out)
{
	struct mtb_errbuf eb = { { 0 } };
	int dx = (int)lround(vw->inset_x * crop->width);
	int dy = (int)lround(vw->inset_y * crop->height);
	struct mtb_image win = *crop;   /* a window on the same pixels, no copy */
	win.data = crop->data + (size_t)dy * crop->stride + (size_t)dx * (size_t)crop->channels;
	win.width = crop->width - 2 * dx;
	win.height = crop->height - 2 * dy;
	int rc = mtb_cvw_resize_bgr(&win, w, h, v->pixels, &eb);
	if (rc != MTB_OK)
		return rc;
	int n = w * h * 3;
	double sum = 0.0, sq = 0.0, sum_c[3] = { 0 }, sq_c[3] = { 0 };
	for (int i = 0; i < n; i++) {
		double x = v->pixels[i];
		sum += x;
		sq += x * x;
		sum_c[i % 3] += x;
		sq_c[i % 3] += x * x;
	}
	double mean = sum / n;
	double var = sq / n - mean * mean;
	double var_sp = 0.0;
	for (int c = 0; c < 3; c++) {
		double m = sum_c[c] / (n / 3);
		var_sp += (sq_c[c] / (n / 3) - m * m) / 3.0;
	}
	*mean_out = mean;
	*sd_out = var > 0.0 ? sqrt(var) : 0.0;
	*contrast_out = var_sp > 0.0 ? sqrt(var_sp) : 0.0;
	return MTB_OK;
}

/* Writes v->pixels (h x w BGR, HWC), mirrored left to right if `mirror`, then turned by
 * `quarter_turns` clockwise, into dst as the network's input: CHW, mean 0 and standard deviation
 * 1 over all pixels and channels (the training script's normalise()). Quarter turns need a
 * square input. */
static void write_input(const struct mtb_vision *v, int w, int h, int quarter_turns, int mirror, double mean,
			double sd, float *dst)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int sx = x, sy = y;   /* the source pixel shown at (x, y) after the turn */
			switch (quarter_turns & 3) {
			case 1: sx = y; sy = h - 1 - x; break;
			case 2: sx = w - 1 - x; sy = h - 1 - y; break;
			case 3: sx = w - 1 - y; sy = x; break;
			default: break;
			}
			if (mirror)
				sx = w - 1 - sx;
			const unsigned char *px = v->pixels + ((size_t)sy * w + sx) * 3;
			for (int c = 0; c < 3; c++)
				dst[(size_t)c * w * h + (size_t)y * w + x] = (float)((px[c] - mean) / sd);
		}
}

/* One view of crop i of a batch: resized, checked for contrast, normalised into dst. false
 * (with out refused) when the view shows no contrast. */
static int prepare_view(struct mtb_vision *v, const struct mtb_image *crop, const struct view *vw, int w, int h,
			float *dst, struct mtb_reading *out, bool *ok)
{
	double mean = 0.0, sd = 0.0, contrast = 0.0;
	*ok = false;
	int rc = resize_view(v, crop, vw, w, h, &mean, &sd, &contrast);
	if (rc != MTB_OK)
		return rc;
	if (contrast < MIN_CONTRAST) {
		refuse(out, "unreadable crop: no contrast (sd %.1f)", contrast);
		return MTB_OK;
	}
	write_input(v, w, h, vw->quarter_turns, vw->mirror, mean, sd, dst);
	*ok = true;
	return MTB_OK;
}

/* Is the first view's reading sure enough to stand alone? */
static bool view_sure(const float *p, double sure, const struct mtb_reading *one)
{
	return sure > 0.0 && !one->refused && one->confidence >= sure && p[MTB_READER_TENTHS] <= SURE_MAX_REJECT &&
	       one->other <= SURE_MAX_OTHER;
}

/* Decides crop i on its first n probability sets in v->view_p (views x networks): their
 * average, refused when one of them alone reads more than MAX_VIEW_SPREAD away. *avg gets the
 * average. */
static void decide_views(struct mtb_vision *v, int i, int n, const struct mtb_reader_rules *rules, float *avg,
			 struct mtb_reading *out)
{
	double value[MAX_VIEWS * MAX_NETS];
	for (int c = 0; c < MTB_READER_CLASSES; c++)
		avg[c] = 0.0f;
	for (int k = 0; k < n; k++) {
		struct mtb_reading one;
		mtb_reader_decide(v->view_p[i][k], rules, &one);
		value[k] = one.value;
		for (int c = 0; c < MTB_READER_CLASSES; c++)
			avg[c] += v->view_p[i][k][c] / (float)n;
	}
	mtb_reader_decide(avg, rules, out);
	if (out->refused && !out->low_confidence)
		return;
	for (int k = 0; k < n; k++)
		if (mtb_reader_circ_dist(value[k], out->value) > MAX_VIEW_SPREAD) {
			refuse(out, "unstable: %.1f in one view, %.1f in another", value[k], out->value);
			return;
		}
}

/* Reads up to MAX_BATCH crops. Without a cascade (sure 0), every view of every crop goes through
 * each network in one pass. With one, pass 1: the first view of every crop in one network pass
 * (per network); a crop whose first view is sure (view_sure, on the networks' average) is
 * decided on it. Pass 2: the other views of the remaining crops in one network pass. Each crop
 * not decided on its first view is decided on all its views together exactly as a crop read
 * alone. */
static int read_chunk(struct mtb_vision *v, struct mtb_cvw_net *const *nets, int w, int h,
		      const struct mtb_reader_rules *rules, const struct view *views, int n_views, double sure,
		      const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	size_t plane = (size_t)3 * w * h;
	int n_nets = 1;
	while (n_nets < MAX_NETS && nets[n_nets])
		n_nets++;
	bool pending[MAX_BATCH];
	int slot_of[MAX_BATCH * MAX_VIEWS], view_of[MAX_BATCH * MAX_VIEWS];
	int first = sure > 0.0 ? 1 : n_views;   /* views in the first pass */
	for (int pass = 0; pass < (first < n_views ? 2 : 1); pass++) {
		int m = 0;
		for (int i = 0; i < n; i++) {
			if (pass == 0) {
				pending[i] = !out[i].refused;
			}
			if (!pending[i])
				continue;
			int k0 = pass == 0 ? 0 : first, k1 = pass == 0 ? first : n_views;
			for (int k = k0; k < k1; k++) {
				bool ok;
				int rc = prepare_view(v, crops[i], &views[k], w, h, v->input + (size_t)m * plane, &out[i], &ok);
				if (rc != MTB_OK)
					return rc;
				if (!ok) {
					pending[i] = false;
					/* views of this crop already placed in this pass are dropped */
					while (m > 0 && slot_of[m - 1] == i)
						m--;
					break;
				}
				slot_of[m] = i;
				view_of[m++] = k;
			}
		}
		for (int j = 0; j < n_nets && m > 0; j++) {
			struct mtb_errbuf eb = { { 0 } };
			int rc = mtb_cvw_net_run(nets[j], v->input, m, 3, h, w, v->prob, (size_t)m * MTB_READER_CLASSES, &eb);
			if (rc != MTB_OK)
				return rc;
			/* Each view's probabilities back in the crop's own orientation: a view turned by
			 * q quarters shows the pointer 25 q tenths further round; mirrored first, it
			 * shows position c at 25 q - c. */
			for (int s = 0; s < m; s++) {
				const float *pk = v->prob + (size_t)s * MTB_READER_CLASSES;
				float *p = v->view_p[slot_of[s]][view_of[s] * n_nets + j];
				int shift = 25 * (views[view_of[s]].quarter_turns & 3);
				int mirror = views[view_of[s]].mirror;
				for (int c = 0; c < MTB_READER_TENTHS; c++)
					p[c] = pk[wrap(mirror ? shift - c : c + shift)];
				p[MTB_READER_TENTHS] = pk[MTB_READER_TENTHS];
			}
		}
		if (pass == 0 && first == 1) {
			for (int i = 0; i < n; i++) {
				if (!pending[i])
					continue;
				struct mtb_reading one;
				float avg[MTB_READER_CLASSES];
				decide_views(v, i, n_nets, rules, avg, &one);
				if (n_views == 1 || view_sure(avg, sure, &one)) {
					out[i] = one;
					pending[i] = false;
				}
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (!pending[i])
			continue;
		float avg[MTB_READER_CLASSES];
		decide_views(v, i, n_views * n_nets, rules, avg, &out[i]);
	}
	return MTB_OK;
}

static int read_batch(struct mtb_vision *v, struct mtb_cvw_net *const *nets, const char *model, int w, int h,
		      const struct mtb_reader_rules *rules, const struct view *views, int n_views, double sure,
		      const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	if (!v || !crops || !out || n < 0)
		return MTB_ERR_ARG;
	for (int i = 0; i < n; i++) {
		const struct mtb_image *crop = crops[i];
		if (!crop || !crop->data || (crop->channels != 1 && crop->channels != 3 && crop->channels != 4) ||
		    crop->width <= 0 || crop->height <= 0 ||
		    crop->stride < (size_t)crop->width * (size_t)crop->channels)
			return MTB_ERR_ARG;
	}
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		if (!nets[0]) {
			out[i].refused = true;
			snprintf(out[i].reason, sizeof out[i].reason, "no %s model in %s", model, v->model_dir);
		} else if (crops[i]->width < MTB_READER_MIN_SIDE || crops[i]->height < MTB_READER_MIN_SIDE) {
			refuse(&out[i], "unreadable crop: %dx%d pixels is too small", crops[i]->width, crops[i]->height);
		}
	}
	if (!nets[0])
		return MTB_ERR_NOTFOUND;
	for (int i0 = 0; i0 < n; i0 += MAX_BATCH) {
		int m = n - i0 < MAX_BATCH ? n - i0 : MAX_BATCH;
		int rc = read_chunk(v, nets, w, h, rules, views, n_views, sure, crops + i0, m, out + i0);
		if (rc != MTB_OK)
			return rc;
	}
	return MTB_OK;
}

static struct mtb_cvw_net *const NULL_NETS[MAX_NETS];

#define N_DIGIT_VIEWS ((int)(sizeof DIGIT_VIEWS / sizeof DIGIT_VIEWS[0]))
#define N_NEEDLE_VIEWS ((int)(sizeof NEEDLE_VIEWS / sizeof NEEDLE_VIEWS[0]))

int mtb_reader_needle_views(int *quarter_turns, int *mirror, int max)
{
	for (int k = 0; k < N_NEEDLE_VIEWS && k < max; k++) {
		quarter_turns[k] = NEEDLE_VIEWS[k].quarter_turns;
		mirror[k] = NEEDLE_VIEWS[k].mirror;
	}
	return N_NEEDLE_VIEWS;
}

int mtb_vision_read_digit(struct mtb_vision *v, const struct mtb_image *crop, struct mtb_reading *out)
{
	if (!crop || !out)
		return MTB_ERR_ARG;
	return read_batch(v, v ? v->digit : NULL_NETS, "digit", MTB_DIGIT_W, MTB_DIGIT_H, &mtb_reader_digit_rules, DIGIT_VIEWS,
			  N_DIGIT_VIEWS, 0.0, &crop, 1, out);
}

int mtb_vision_read_needle(struct mtb_vision *v, const struct mtb_image *crop, struct mtb_reading *out)
{
	if (!crop || !out)
		return MTB_ERR_ARG;
	return read_batch(v, v ? v->needle : NULL_NETS, "needle", MTB_NEEDLE_W, MTB_NEEDLE_H, &mtb_reader_needle_rules,
			  NEEDLE_VIEWS, N_NEEDLE_VIEWS, 0.0, &crop, 1, out);
}

int mtb_vision_read_digits(struct mtb_vision *v, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return read_batch(v, v ? v->digit : NULL_NETS, "digit", MTB_DIGIT_W, MTB_DIGIT_H, &mtb_reader_digit_rules, DIGIT_VIEWS,
			  N_DIGIT_VIEWS, v ? v->sure : 0.0, crops, n, out);
}

int mtb_vision_read_needles(struct mtb_vision *v, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return read_batch(v, v ? v->needle : NULL_NETS, "needle", MTB_NEEDLE_W, MTB_NEEDLE_H, &mtb_reader_needle_rules,
			  NEEDLE_VIEWS, N_NEEDLE_VIEWS, v ? v->sure : 0.0, crops, n, out);
}

int mtb_vision_check_needles(struct mtb_vision *v, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return read_batch(v, v ? v->needle : NULL_NETS, "needle", MTB_NEEDLE_W, MTB_NEEDLE_H, &mtb_reader_needle_rules,
			  NEEDLE_VIEWS, N_NEEDLE_VIEWS, v ? v->check_sure : 0.0, crops, n, out);
}

static double sure_or_off(double sure_confidence)
{
	return sure_confidence > 0.0 && sure_confidence <= 1.0 ? sure_confidence : 0.0;
}

void mtb_vision_set_cascade(struct mtb_vision *v, double sure_confidence)
{
	if (v)
		v->sure = sure_or_off(sure_confidence);
}

void mtb_vision_set_check(struct mtb_vision *v, double sure_confidence)
{
	if (v)
		v->check_sure = sure_or_off(sure_confidence);
}

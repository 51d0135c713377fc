/* Whole-register reading measured on rendered dials: accuracy, refusals, confident gross errors
 * and speed. Not a test (nothing here passes or fails); the figures of docs/vision-register.md.
 *
 * usage: dial_eval [--layout NAME] [--count N] [--seed S] [--nuisance X] [--frames K]
 *                  [--size WxH] [--models DIR] [--threads T] [--align-only 1]
 *                  [--truth-pointers 1] [--sequence L] [--shake PX] [--track 0] [--trace 1]
 *                  [--batch 0|1] [--cascade C] [--check C] [--dump FILE] [--dump2 FILE --cascade2 C]
 *                  [--compare 1 [--dump-before FILE]] [--save I --save-dir DIR] [--roll C]
 * Every dial shows a volume drawn from the seed: half uniform over the register's range, half
 * next to a roll-over of a random element (several digits turning at once, as 9999.99 ->
 * 10000.00). With --frames K each volume is rendered K times (other seeds: other light, glare,
 * pose) and the frames are combined (vision/register.h). Reading times cover align + crop +
 * element readers + fusion, per dial, on the calling thread; --threads T reads the same images
 * on T threads at once and reports dials per second. --align-only 1 measures the aligner alone:
 * how far (in crop sides) the crops it cuts lie from where the renderer drew the elements, and
 * its time per frame; no models needed. --truth-pointers 1 answers every pointer crop with the
 * renderer's true position (confidence 0.9) instead of the pointer reader: the rollers, the
 * aligner and the fusion measured alone, for as long as no pointer model exists.
 * --sequence L: the dials come as sequences of L frames from one camera, as on a bench: one
 * render seed per camera (the same face, pose, light and glare), each frame with its own volume
 * and, after the first, moved by a small camera shake (--shake PX: translation sd PX pixels,
 * rotation and scale sd PX over 240 px, default 1). Each frame is aligned near the pose found on
 * the frame before (mtb_register_align_next), the first frame of a camera near the previous
 * camera's last pose, as a bench that is not told the meter was changed: that one must fall
 * back to the full search. --track 0 aligns those same frames by the full search each (the
 * comparison). Without --sequence every frame is aligned by the full search. --trace 1 (with
 * --align-only) prints each frame's search, score and error on stderr. The read time of each dial
 * is also given less the time spent in the element readers (align, crops, fusion).
 * --batch 0 reads crop by crop (mtb_vision_read_digit / _needle, every view) instead of all
 * roller crops and all pointer crops at once (default 1); --cascade C sets the batch readers'
 * cascade (mtb_vision_set_cascade: 0 every view, else the confidence from which a first view
 * stands alone; default the library's); --check C the cascade of the pointers the fusion only
 * checks, every pointer but the finest (mtb_vision_set_check; default the library's).
 * --dump FILE writes one line per frame: dial index, frame, true volume (uL), read volume (uL,
 * -1 when refused), then per element the true position, the reader's value, confidence,
 * refusal flag (0/1) and second-candidate mass: what the fusion rules can be studied on without running the networks.
 * --dump2 FILE reads the same frames once more with --cascade2 C and dumps that reading too.
 * --compare 1 also reads the same frames as before the cascade and the per-kind tolerances
 * (every view of every crop, MTB_REGISTER_FUSE_BEFORE) and prints those figures too, side by
 * side (--dump-before FILE dumps that reading). --save I writes dial I's frames and the crops the
 * register cuts from each (after the full-search alignment) as PNG into --save-dir DIR (default
 * .): dial-I-F.png, dial-I-F-eK.png for element K; what a failure in a dump looked like.
 * --roll C sets the fusion's min_roll_confidence (struct mtb_register_fuse_opts; 0: a roller its
 * reader refused is never used) for the main reading. Without --sequence the dump ends each line
 * with every crop's offset from where the renderer drew it (along its width in crop widths, along
 * its height in crop heights). */
#include "sim/dial_render.h"
#include "sim/image_png.h"
#include "vision/register.h"
#include "vision/vision.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t next(uint64_t *s) { return *s = mix64(*s); }

/* As `meterbench sim render --kind dial` draws its volumes. */
static int64_t sample_volume(uint64_t *r, const struct mtb_layout *l)
{
	int64_t range = l->range_ul;
	if (next(r) % 2 == 0)
		return (int64_t)(next(r) % (uint64_t)range);
	int n = mtb_layout_elements(l);
	int k = (int)(next(r) % (uint64_t)n);
	int64_t wk = mtb_layout_weight_ul(l, k);
	int64_t v0 = (int64_t)(next(r) % (uint64_t)(range / wk)) * wk;
	if (next(r) % 2 == 0) {
		int64_t wj = mtb_layout_weight_ul(l, (int)(next(r) % (uint64_t)(k + 1)));
		v0 = v0 / wj * wj;
	}
	int64_t wb = k + 1 < n ? mtb_layout_weight_ul(l, k + 1) : wk;
	int64_t d = (int64_t)(next(r) % (uint64_t)(2 * wb)) - wb;
	return ((v0 + d) % range + range) % range;
}

struct ctx {
	struct mtb_vision *v;
	bool batch;                 /* readers called with all crops of a kind at once */
	double t_readers;           /* seconds spent in the element readers, this dial */
	const double *truth_pos;    /* with --truth-pointers: the frame's element positions */
	int n_rollers, next_pointer;
};

static int rd_digit(void *u, const struct mtb_image *c, struct mtb_reading *o)
{
	struct ctx *x = u;
	double t0 = now_s();
	int rc = mtb_vision_read_digit(x->v, c, o);
	x->t_readers += now_s() - t0;
	return rc;
}

static int rd_needle(void *u, const struct mtb_image *c, struct mtb_reading *o)
{
	struct ctx *x = u;
	if (!x->truth_pos) {
		double t0 = now_s();
		int rc = mtb_vision_read_needle(x->v, c, o);
		x->t_readers += now_s() - t0;
		return rc;
	}
	memset(o, 0, sizeof *o);
	o->value = x->truth_pos[x->n_rollers + x->next_pointer++];
	o->confidence = 0.9;
	return MTB_OK;
}

static int rd_digits(void *u, const struct mtb_image *const *c, int n, struct mtb_reading *o)
{
	struct ctx *x = u;
	double t0 = now_s();
	int rc = mtb_vision_read_digits(x->v, c, n, o);
	x->t_readers += now_s() - t0;
	return rc;
}

static int rd_needles(void *u, const struct mtb_image *const *c, int n, struct mtb_reading *o)
{
	struct ctx *x = u;
	if (!x->truth_pos) {
		double t0 = now_s();
		int rc = mtb_vision_read_needles(x->v, c, n, o);
		x->t_readers += now_s() - t0;
		return rc;
	}
	for (int i = 0; i < n; i++)
		rd_needle(u, c[i], &o[i]);
	return MTB_OK;
}

static int rd_check_needles(void *u, const struct mtb_image *const *c, int n, struct mtb_reading *o)
{
	struct ctx *x = u;
	if (!x->truth_pos) {
		double t0 = now_s();
		int rc = mtb_vision_check_needles(x->v, c, n, o);
		x->t_readers += now_s() - t0;
		return rc;
	}
	return rd_needles(u, c, n, o);
}

static void project(const double *h, double u, double v, double *x, double *y);

/* Where each crop's centre lies (pose) against where the renderer drew it (truth), in the crop's
 * own axes: off[k][0] along its width in crop widths, off[k][1] along its height in crop heights. */
static void crop_offsets(const struct mtb_layout *l, const double *pose, const double *truth,
			 double (*off)[2])
{
	for (int k = 0; k < mtb_layout_elements(l); k++) {
		double rx, ry, rw, rh, cx, cy, px, py, ax, ay, bx, by, dx, dy;
		mtb_layout_crop_rect(l, k, &rx, &ry, &rw, &rh);
		project(truth, rx + rw / 2, ry + rh / 2, &cx, &cy);
		project(pose, rx + rw / 2, ry + rh / 2, &px, &py);
		project(truth, rx + rw, ry + rh / 2, &ax, &ay);    /* right side's middle */
		project(truth, rx + rw / 2, ry + rh, &bx, &by);    /* bottom side's middle */
		ax -= cx, ay -= cy, bx -= cx, by -= cy, dx = px - cx, dy = py - cy;
		off[k][0] = (dx * ax + dy * ay) / (ax * ax + ay * ay) / 2;
		off[k][1] = (dx * bx + dy * by) / (bx * bx + by * by) / 2;
	}
}

struct job {
	const struct mtb_layout *l;
	struct mtb_image **img;
	int n;
	const char *models;
	struct mtb_register_result *res;   /* NULL: timing only */
	double (*pos)[MTB_LAYOUT_MAX_ELEMENTS];   /* per image true positions, or NULL */
	double *t_read;                     /* per image, seconds */
	double *t_rest;                     /* per image: t_read less the element readers' time */
	bool *near;                         /* per image: aligned near the previous pose, or NULL */
	int sequence;                       /* > 0: align each frame near the previous frame's pose */
	int batch;                          /* readers over all crops of a kind at once */
	double cascade;                     /* mtb_vision_set_cascade; < 0: the default */
	double check;                       /* mtb_vision_set_check; < 0: the default */
	const struct mtb_register_fuse_opts *fo;   /* NULL: the defaults */
	double (*truth_h)[9];               /* per image: the renderer's face-to-pixel map, or NULL */
	double (*off)[MTB_LAYOUT_MAX_ELEMENTS][2];   /* out with truth_h: each crop's offset */
	double wall;
	int rc;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct ctx c = { 0 };
	struct mtb_errbuf eb = { { 0 } };
	c.n_rollers = j->l->n_rollers;
	if ((j->rc = mtb_vision_create(&c.v, j->models, &eb)) != MTB_OK) {
		fprintf(stderr, "dial_eval: %s\n", eb.msg);
		return NULL;
	}
	if (j->cascade >= 0)
		mtb_vision_set_cascade(c.v, j->cascade);
	if (j->check >= 0)
		mtb_vision_set_check(c.v, j->check);
	struct mtb_register_readers rd = { rd_digit, rd_needle, &c, j->batch ? rd_digits : NULL,
					   j->batch ? rd_needles : NULL, j->batch ? rd_check_needles : NULL };
	struct mtb_register_aligner *al = NULL;
	if ((j->sequence || j->truth_h) && (j->rc = mtb_register_aligner_create(j->l, &al, &eb)) != MTB_OK) {
		fprintf(stderr, "dial_eval: %s\n", eb.msg);
		mtb_vision_destroy(c.v);
		return NULL;
	}
	struct mtb_register_pose prev = { { 0 }, 0, false };
	double t0 = now_s();
	for (int i = 0; i < j->n; i++) {
		struct mtb_register_result r;
		if (j->pos) {
			c.truth_pos = j->pos[i];
			c.next_pointer = 0;
		}
		c.t_readers = 0;
		double a = now_s();
		if (al && !j->sequence)
			mtb_register_aligner_forget(al);   /* the full search, as mtb_register_read */
		if (al)
			j->rc = mtb_register_read_next(al, j->img[i], &rd, j->fo, &r, &prev, &eb);
		else
			j->rc = mtb_register_read(j->l, j->img[i], &rd, j->fo, &r, &eb);
		if (j->rc != MTB_OK) {
			fprintf(stderr, "dial_eval: %s\n", eb.msg);
			break;
		}
		if (j->t_read)
			j->t_read[i] = now_s() - a;
		if (j->t_rest)
			j->t_rest[i] = j->t_read[i] - c.t_readers;
		if (j->near)
			j->near[i] = al && prev.near;
		if (j->res)
			j->res[i] = r;
		if (j->truth_h)
			crop_offsets(j->l, prev.h, j->truth_h[i], j->off[i]);
	}
	j->wall = now_s() - t0;
	mtb_register_aligner_destroy(al);
	mtb_vision_destroy(c.v);
	return NULL;
}

static void project(const double *h, double u, double v, double *x, double *y)
{
	double w = h[6] * u + h[7] * v + h[8];
	*x = (h[0] * u + h[1] * v + h[2]) / w;
	*y = (h[3] * u + h[4] * v + h[5]) / w;
}

static double gauss(uint64_t *r)
{
	double u1 = ((next(r) >> 11) + 0.5) / 9007199254740992.0, u2 = (next(r) >> 11) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979323846 * u2);
}

/* Moves a rendered frame as a camera shake would: a rotation and scale about the image centre
 * and a translation (sd px pixels; rotation and scale sd px / 240), bilinear, edge pixels
 * repeated; the truth's homography follows. */
static int shake(struct mtb_image **img, double *face_to_px, double px, uint64_t *r)
{
	struct mtb_image *src = *img, *dst;
	int w = src->width, h = src->height, c = src->channels;
	if (mtb_image_create(&dst, w, h, c) != MTB_OK)
		return MTB_ERR_NOMEM;
	double th = px / 240.0 * gauss(r), sc = 1 + px / 240.0 * gauss(r);
	double tx = px * gauss(r), ty = px * gauss(r), cx = w / 2.0, cy = h / 2.0;
	double a = sc * cos(th), b = -sc * sin(th);
	/* W: p' = centre + A (p - centre) + t, A = [[a, b], [-b, a]] */
	double W[9] = { a, b, cx + tx - a * cx - b * cy, -b, a, cy + ty + b * cx - a * cy, 0, 0, 1 };
	double det = a * a + b * b;
	for (int y = 0; y < h; y++) {
		uint8_t *d = mtb_image_row(dst, y);
		for (int x = 0; x < w; x++) {
			double X = x + 0.5 - W[2], Y = y + 0.5 - W[5];
			double sx = (a * X - b * Y) / det - 0.5, sy = (b * X + a * Y) / det - 0.5;
			sx = fmin(fmax(sx, 0), w - 1.001);
			sy = fmin(fmax(sy, 0), h - 1.001);
			int x0 = (int)sx, y0 = (int)sy;
			double fx = sx - x0, fy = sy - y0;
			const uint8_t *p0 = mtb_image_row(src, y0) + (size_t)x0 * c, *p1 = mtb_image_row(src, y0 + 1) + (size_t)x0 * c;
			for (int k = 0; k < c; k++)
				d[x * c + k] = (uint8_t)((1 - fy) * ((1 - fx) * p0[k] + fx * p0[c + k]) +
							 fy * ((1 - fx) * p1[k] + fx * p1[c + k]) + 0.5);
		}
	}
	double H[9];
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			H[3 * i + k] = W[3 * i] * face_to_px[k] + W[3 * i + 1] * face_to_px[3 + k] + W[3 * i + 2] * face_to_px[6 + k];
	memcpy(face_to_px, H, sizeof H);
	mtb_image_destroy(src);
	*img = dst;
	return MTB_OK;
}

/* Writes dial `index`'s frames and the crops the register cuts from them (full search). */
static int save_frames(const struct mtb_layout *l, struct mtb_image *const *img, int frames, int index, const char *dir)
{
	struct mtb_errbuf eb = { { 0 } };
	char path[4096];
	int n = mtb_layout_elements(l);
	for (int f = 0; f < frames; f++) {
		snprintf(path, sizeof path, "%s/dial-%d-%d.png", dir, index, f);
		if (mtb_image_write_png(img[f], path, &eb) != MTB_OK)
			goto fail;
		struct mtb_register_pose pose;
		if (mtb_register_align(l, img[f], &pose, &eb) != MTB_OK) {
			fprintf(stderr, "dial_eval: dial %d frame %d: %s\n", index, f, eb.msg);
			continue;
		}
		struct mtb_image *crop[MTB_LAYOUT_MAX_ELEMENTS] = { 0 };
		if (mtb_register_crop_rollers(l, img[f], &pose, crop, NULL, &eb) != MTB_OK ||
		    mtb_register_crop_pointers(l, img[f], &pose, crop + l->n_rollers, NULL, &eb) != MTB_OK)
			goto fail;
		int rc = MTB_OK;
		for (int k = 0; k < n; k++) {
			snprintf(path, sizeof path, "%s/dial-%d-%d-e%d.png", dir, index, f, k);
			if (rc == MTB_OK)
				rc = mtb_image_write_png(crop[k], path, &eb);
			mtb_image_destroy(crop[k]);
		}
		if (rc != MTB_OK)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "dial_eval: %s\n", eb.msg);
	return 1;
}

/* Frame i's render seed: its own, or with sequences of `sequence` frames its camera's. */
static uint64_t frame_seed(int sequence, int i, uint64_t *r, uint64_t *cam_seed)
{
	if (sequence <= 0 || i % sequence == 0)
		*cam_seed = next(r);
	return *cam_seed;
}

/* Frame i of the run; with sequences, a shake after a camera's first frame. */
static int render_frame(const struct mtb_layout *l, int64_t volume, int w, int h, double nuisance, int sequence,
			double shake_px, int i, uint64_t *r, uint64_t cam_seed, struct mtb_image **img,
			struct mtb_dial_truth *tr, struct mtb_errbuf *eb)
{
	struct mtb_dial_render_opts o = { w, h, MTB_DIAL_STYLE_RANDOM, cam_seed, nuisance };
	int rc = mtb_dial_render(l, volume, &o, img, tr, eb);
	if (rc == MTB_OK && sequence > 0 && i % sequence != 0 && shake_px > 0 &&
	    (rc = shake(img, tr->face_to_px, shake_px, r)) != MTB_OK) {
		mtb_image_destroy(*img);
		return mtb_errbuf_set(eb, rc, "shake: out of memory");
	}
	return rc;
}

/* Largest distance over every element's crop corners between pose and truth, in crop sides. */
static double corner_error(const struct mtb_layout *l, const double *pose, const double *truth)
{
	double worst = 0;
	for (int i = 0; i < mtb_layout_elements(l); i++) {
		double rx, ry, rw, rh, ax, ay, bx, by;
		mtb_layout_crop_rect(l, i, &rx, &ry, &rw, &rh);
		project(truth, rx, ry, &ax, &ay);
		project(truth, rx + rw, ry, &bx, &by);
		double side = hypot(bx - ax, by - ay) * fmin(rw, rh) / rw;
		for (int c = 0; c < 4; c++) {
			double u = rx + (c & 1) * rw, v = ry + (c >> 1) * rh, x0, y0, x1, y1;
			project(pose, u, v, &x0, &y0);
			project(truth, u, v, &x1, &y1);
			worst = fmax(worst, hypot(x0 - x1, y0 - y1) / side);
		}
	}
	return worst;
}

/* --dump: one line per frame (see the top of this file). */
static int dump_results(const char *path, const struct mtb_layout *l, const struct mtb_register_result *res, int n,
			int frames, const int64_t *truth, double (*pos)[MTB_LAYOUT_MAX_ELEMENTS],
			double (*off)[MTB_LAYOUT_MAX_ELEMENTS][2])
{
	FILE *df = fopen(path, "w");
	if (!df) {
		fprintf(stderr, "dial_eval: %s: cannot write\n", path);
		return 1;
	}
	int ne = mtb_layout_elements(l);
	for (int i = 0; i < n; i++) {
		const struct mtb_register_result *q = &res[i];
		fprintf(df, "%d %d %lld %lld", i / frames, i % frames, (long long)truth[i / frames],
			q->refused ? -1LL : (long long)q->volume_ul);
		for (int e = 0; e < ne; e++)
			fprintf(df, " %.4f %.2f %.4f %d %.4f", pos[i][e], q->element[e].value, q->element[e].confidence,
				q->n_elements == ne ? (int)q->element[e].refused : 1, q->element[e].other);
		for (int e = 0; off && e < ne; e++)
			fprintf(df, " %.3f %.3f", off[i][e][0], off[i][e][1]);
		fputc('\n', df);
	}
	return fclose(df) == 0 ? 0 : 1;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct tally {
	int n, exact, within_div, gross, refused;
};

static void tally_add(struct tally *t, const struct mtb_layout *l, const struct mtb_register_result *r, int64_t truth,
		      const char *what, int idx, int *printed)
{
	t->n++;
	if (r->refused) {
		t->refused++;
		return;
	}
	int64_t e = (r->volume_ul - truth) % l->range_ul;
	if (e > l->range_ul / 2)
		e -= l->range_ul;
	if (e < -l->range_ul / 2)
		e += l->range_ul;
	e = llabs(e);
	if (e <= r->resolution_ul)
		t->exact++;
	else if (e <= l->finest_ul)
		t->within_div++;
	else {
		t->gross++;
		if ((*printed)++ < 10)
			fprintf(stderr, "gross %s #%d: truth %.6f L read %.6f L (confidence %.2f)\n", what, idx, truth / 1e6,
				r->volume_ul / 1e6, r->confidence);
	}
}

static void tally_print(const char *what, const struct tally *t)
{
	int acc = t->n - t->refused;
	printf("%s: %d dials, %d accepted (%.2f %%), refused %d (%.2f %%); of all: exact to the resolution %d "
	       "(%.2f %%), within one finest division %d, gross errors accepted %d\n",
	       what, t->n, acc, 100.0 * acc / t->n, t->refused, 100.0 * t->refused / t->n, t->exact,
	       100.0 * t->exact / t->n, t->within_div, t->gross);
}

int main(int argc, char **argv)
{
	const char *layout_name = "roller8-pointer4", *models = NULL;
	int count = 200, frames = 1, threads = 0, w = 480, h = 480, align_only = 0, truth_pointers = 0, sequence = 0;
	int track = 1, trace = 0;
	const char *dump = NULL, *dump2 = NULL, *dump_before = NULL;
	int compare = 0;
	double cascade2 = 0;
	int batch = 1;
	double cascade = -1;
	double check = -1;
	double nuisance = 1.0, shake_px = 1.0;
	uint64_t seed = 7000000;
	int save = -1;
	struct mtb_register_fuse_opts fuse = MTB_REGISTER_FUSE_DEFAULTS;
	const char *save_dir = ".";
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--layout"))
			layout_name = v;
		else if (!strcmp(k, "--count"))
			count = atoi(v);
		else if (!strcmp(k, "--seed"))
			seed = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--nuisance"))
			nuisance = atof(v);
		else if (!strcmp(k, "--frames"))
			frames = atoi(v);
		else if (!strcmp(k, "--models"))
			models = v;
		else if (!strcmp(k, "--truth-pointers"))
			truth_pointers = atoi(v);
		else if (!strcmp(k, "--align-only"))
			align_only = atoi(v);
		else if (!strcmp(k, "--threads"))
			threads = atoi(v);
		else if (!strcmp(k, "--sequence"))
			sequence = atoi(v);
		else if (!strcmp(k, "--shake"))
			shake_px = atof(v);
		else if (!strcmp(k, "--track"))
			track = atoi(v);
		else if (!strcmp(k, "--trace"))
			trace = atoi(v);
		else if (!strcmp(k, "--dump"))
			dump = v;
		else if (!strcmp(k, "--dump2"))
			dump2 = v;
		else if (!strcmp(k, "--cascade2"))
			cascade2 = atof(v);
		else if (!strcmp(k, "--compare"))
			compare = atoi(v);
		else if (!strcmp(k, "--dump-before"))
			dump_before = v;
		else if (!strcmp(k, "--batch"))
			batch = atoi(v);
		else if (!strcmp(k, "--cascade"))
			cascade = atof(v);
		else if (!strcmp(k, "--check"))
			check = atof(v);
		else if (!strcmp(k, "--roll"))
			fuse.min_roll_confidence = atof(v);
		else if (!strcmp(k, "--save"))
			save = atoi(v);
		else if (!strcmp(k, "--save-dir"))
			save_dir = v;
		else if (!strcmp(k, "--size")) {
			if (sscanf(v, "%dx%d", &w, &h) != 2)
				return 2;
		} else {
			fprintf(stderr, "dial_eval: unknown option %s\n", k);
			return 2;
		}
	}
	if (count < 1 || frames < 1 || frames > 15 || threads < 0 || threads > 16 || sequence < 0 ||
	    (sequence > 0 && frames > 1) || !(shake_px >= 0 && shake_px <= 50)) {
		fprintf(stderr, "dial_eval: bad option value (--sequence needs --frames 1)\n");
		return 2;
	}
	struct mtb_layout l;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_layout_load(layout_name, &l, &eb) != MTB_OK) {
		fprintf(stderr, "dial_eval: %s\n", eb.msg);
		return 2;
	}
	if (align_only) {
		uint64_t r = seed, cam_seed = 0;
		double *err = calloc((size_t)count, sizeof *err), *t = calloc((size_t)count, sizeof *t);
		double *t_near = calloc((size_t)count, sizeof *t_near), *t_full = calloc((size_t)count, sizeof *t_full);
		double worst_first = 0, worst_near = 0;
		int refused = 0, over[3] = { 0, 0, 0 }, n_near = 0, n_full = 0, first_near = 0;
		struct mtb_register_aligner *al = NULL;
		if (!err || !t || !t_near || !t_full || (sequence && track && mtb_register_aligner_create(&l, &al, &eb) != MTB_OK))
			return 1;
		struct mtb_register_pose prev = { { 0 }, 0, false };
		for (int i = 0; i < count; i++) {
			struct mtb_image *im;
			struct mtb_dial_truth tr;
			uint64_t fs = frame_seed(sequence, i, &r, &cam_seed);
			int64_t vol = sample_volume(&r, &l);
			if (render_frame(&l, vol, w, h, nuisance, sequence, shake_px, i, &r, fs, &im, &tr, &eb) != MTB_OK) {
				fprintf(stderr, "dial_eval: %s\n", eb.msg);
				return 1;
			}
			struct mtb_register_pose pose;
			double a = now_s();
			int rc = al ? mtb_register_align_next(al, im, &pose, &eb)
				    : mtb_register_align(&l, im, &pose, &eb);
			t[i] = now_s() - a;
			mtb_image_destroy(im);
			double prev_score = prev.score;
			prev = pose;
			if (pose.near)
				t_near[n_near++] = t[i];
			else
				t_full[n_full++] = t[i];
			if (rc != MTB_OK) {
				refused++;
				err[i] = 99;
				continue;
			}
			err[i] = corner_error(&l, pose.h, tr.face_to_px);
			if (trace)
				fprintf(stderr, "frame %d: %s score %.3f (previous %.3f, ratio %.3f) error %.3f\n", i,
					pose.near ? "near" : "full", pose.score, prev_score, pose.score / prev_score, err[i]);
			if (sequence && i % sequence == 0) {
				worst_first = fmax(worst_first, err[i]);
				first_near += pose.near;
			}
			if (pose.near)
				worst_near = fmax(worst_near, err[i]);
			over[0] += err[i] > 0.1;
			over[1] += err[i] > 0.25;
			over[2] += err[i] > 0.5;
		}
		mtb_register_aligner_destroy(al);
		qsort(err, (size_t)count, sizeof *err, cmp_d);
		qsort(t, (size_t)count, sizeof *t, cmp_d);
		printf("align %s, nuisance %.2f, %dx%d, seed %llu: %d frames, refused %d; worst crop-corner error "
		       "median %.3f, 90th percentile %.3f crop sides; over 0.1: %d, over 0.25: %d, over 0.5: %d; "
		       "time median %.2f ms, 90th percentile %.2f ms\n",
		       l.name, nuisance, w, h, (unsigned long long)seed, count, refused, err[count / 2], err[(int)(count * 0.9)],
		       over[0], over[1], over[2], t[count / 2] * 1e3, t[(int)(count * 0.9)] * 1e3);
		if (sequence && !track)
			printf("  sequences of %d frames, shake %.1f px, every frame by the full search (--track 0)\n", sequence,
			       shake_px);
		if (sequence && track) {
			qsort(t_near, (size_t)n_near, sizeof *t_near, cmp_d);
			qsort(t_full, (size_t)n_full, sizeof *t_full, cmp_d);
			printf("  sequences of %d frames, shake %.1f px: %d frames found near the previous pose (time median "
			       "%.2f ms, worst error %.3f), %d by the full search (time median %.2f ms); first frames of a camera: "
			       "%d of %d kept near the previous camera's pose, worst error %.3f\n",
			       sequence, shake_px, n_near, n_near ? t_near[n_near / 2] * 1e3 : 0, worst_near, n_full,
			       n_full ? t_full[n_full / 2] * 1e3 : 0, first_near, (count + sequence - 1) / sequence, worst_first);
		}
		free(err);
		free(t);
		free(t_near);
		free(t_full);
		return 0;
	}
	int n = count * frames;
	struct mtb_image **img = calloc((size_t)n, sizeof *img);
	int64_t *truth = calloc((size_t)count, sizeof *truth);
	struct mtb_register_result *res = calloc((size_t)n, sizeof *res);
	double *t_read = calloc((size_t)n, sizeof *t_read);
	double(*pos)[MTB_LAYOUT_MAX_ELEMENTS] = calloc((size_t)n, sizeof *pos);
	double(*truth_h)[9] = calloc((size_t)n, sizeof *truth_h);
	double(*off)[MTB_LAYOUT_MAX_ELEMENTS][2] = calloc((size_t)n, sizeof *off);
	if (!img || !truth || !res || !t_read || !pos || !truth_h || !off)
		return 1;
	uint64_t r = seed, cam_seed = 0;
	double t_render = now_s();
	for (int i = 0; i < count; i++) {
		truth[i] = sample_volume(&r, &l);
		for (int f = 0; f < frames; f++) {
			struct mtb_dial_truth tr;
			uint64_t fs = frame_seed(sequence, i * frames + f, &r, &cam_seed);
			if (render_frame(&l, truth[i], w, h, nuisance, sequence, shake_px, i * frames + f, &r, fs,
					 &img[i * frames + f], &tr, &eb) != MTB_OK) {
				fprintf(stderr, "dial_eval: %s\n", eb.msg);
				return 1;
			}
			memcpy(pos[i * frames + f], tr.position, sizeof pos[0]);
			memcpy(truth_h[i * frames + f], tr.face_to_px, sizeof truth_h[0]);
		}
	}

	t_render = now_s() - t_render;
	if (save >= 0 && save < count && save_frames(&l, img + save * frames, frames, save, save_dir) != 0)
		return 1;
	bool *near = calloc((size_t)n, sizeof *near);
	if (!near)
		return 1;
	double *t_rest = calloc((size_t)n, sizeof *t_rest);
	if (!t_rest)
		return 1;
	struct job j = { &l, img, n, models, res, truth_pointers ? pos : NULL, t_read, t_rest, near, sequence && track, batch,
			 cascade, check, &fuse, sequence ? NULL : truth_h, off, 0, 0 };
	run_job(&j);
	if (j.rc != MTB_OK)
		return 1;
	int n_near = 0;
	for (int i = 0; i < n; i++)
		n_near += near[i];
	free(near);
	if (dump && dump_results(dump, &l, res, n, frames, truth, pos, sequence ? NULL : off) != 0)
		return 1;
	if (dump2) {
		/* The same frames read again with the second cascade setting. */
		struct mtb_register_result *res2 = calloc((size_t)n, sizeof *res2);
		if (!res2)
			return 1;
		struct job j2 = { &l, img, n, models, res2, truth_pointers ? pos : NULL, NULL, NULL, NULL,
				  sequence && track, batch, cascade2, check, NULL, NULL, NULL, 0, 0 };
		run_job(&j2);
		if (j2.rc != MTB_OK || dump_results(dump2, &l, res2, n, frames, truth, pos, NULL) != 0)
			return 1;
		free(res2);
	}
	struct tally single = { 0 }, comb = { 0 };
	int printed = 0;
	for (int i = 0; i < count; i++)
		tally_add(&single, &l, &res[i * frames], truth[i], "single frame", i, &printed);
	printf("layout %s, nuisance %.2f, %dx%d, seed %llu%s\n", l.name, nuisance, w, h, (unsigned long long)seed,
	       truth_pointers ? ", POINTERS FROM THE RENDERER'S TRUTH (rollers, aligner, fusion only)" : "");
	if (sequence)
		printf("sequences of %d frames from one camera, shake %.1f px: %d of %d frames aligned near the previous "
		       "pose%s\n", sequence, shake_px, n_near, n, track ? "" : " (--track 0: all by the full search)");
	tally_print("single frame", &single);
	if (frames > 1) {
		struct mtb_register_combine_opts co = { 0, 0, 2 * res[0].resolution_ul, 0, 0 };
		for (int i = 0; i < count; i++) {
			struct mtb_register_result out;
			mtb_register_combine(&l, &res[i * frames], frames, &co, &out);
			tally_add(&comb, &l, &out, truth[i], "combined", i, &printed);
		}
		char what[64];
		snprintf(what, sizeof what, "%d frames combined", frames);
		tally_print(what, &comb);
	}
	if (compare) {
		/* The same frames read as before the cascade and the per-kind fusion tolerances: every
		 * view of every crop, MTB_REGISTER_FUSE_BEFORE. */
		static const struct mtb_register_fuse_opts before = MTB_REGISTER_FUSE_BEFORE;
		struct mtb_register_result *rb = calloc((size_t)n, sizeof *rb);
		if (!rb)
			return 1;
		struct job jb = { &l, img, n, models, rb, truth_pointers ? pos : NULL, NULL, NULL, NULL,
				  sequence && track, batch, 0.0, 0.0, &before, NULL, NULL, 0, 0 };
		run_job(&jb);
		if (jb.rc != MTB_OK)
			return 1;
		struct tally bs = { 0 }, bc = { 0 };
		int bprinted = 0;
		for (int i = 0; i < count; i++)
			tally_add(&bs, &l, &rb[i * frames], truth[i], "before, single frame", i, &bprinted);
		tally_print("before (every view, MTB_REGISTER_FUSE_BEFORE): single frame", &bs);
		if (frames > 1) {
			struct mtb_register_combine_opts co = { 0, 0, 2 * rb[0].resolution_ul, 0, 0 };
			for (int i = 0; i < count; i++) {
				struct mtb_register_result out;
				mtb_register_combine(&l, &rb[i * frames], frames, &co, &out);
				tally_add(&bc, &l, &out, truth[i], "before, combined", i, &bprinted);
			}
			char what[96];
			snprintf(what, sizeof what, "before (every view, MTB_REGISTER_FUSE_BEFORE): %d frames combined", frames);
			tally_print(what, &bc);
		}
		if (dump_before && dump_results(dump_before, &l, rb, n, frames, truth, pos, NULL) != 0)
			return 1;
		free(rb);
	}
	/* Refusal reasons, by their first words. */
	struct {
		char key[40];
		int n;
	} reasons[16];
	int nr = 0;
	for (int i = 0; i < n; i++) {
		if (!res[i].refused)
			continue;
		char key[40];
		snprintf(key, sizeof key, "%s", res[i].reason);
		char *c = strpbrk(key, ":(0123456789");
		if (c)
			*c = 0;
		int k;
		for (k = 0; k < nr && strcmp(reasons[k].key, key); k++)
			;
		if (k == nr && nr < 16) {
			snprintf(reasons[nr].key, sizeof reasons[nr].key, "%s", key);
			reasons[nr++].n = 0;
		}
		if (k < nr)
			reasons[k].n++;
	}
	for (int k = 0; k < nr; k++)
		printf("  refused frames: %4d  %s\n", reasons[k].n, reasons[k].key);
	qsort(t_read, (size_t)n, sizeof *t_read, cmp_d);
	printf("render time per dial: %.2f ms (mean)\n", t_render / n * 1e3);
	printf("read time per dial (this thread): median %.2f ms, 90th percentile %.2f ms\n", t_read[n / 2] * 1e3,
	       t_read[(int)(n * 0.9)] * 1e3);
	qsort(t_rest, (size_t)n, sizeof *t_rest, cmp_d);
	printf("  of which outside the element readers (align, crops, fusion): median %.2f ms, 90th percentile %.2f ms\n",
	       t_rest[n / 2] * 1e3, t_rest[(int)(n * 0.9)] * 1e3);
	free(t_rest);

	if (threads > 0) {
		pthread_t th[16];
		struct job jobs[16];
		double t0 = now_s();
		for (int t = 0; t < threads; t++) {
			jobs[t] = (struct job){ &l, img, n, models, NULL, truth_pointers ? pos : NULL, NULL, NULL, NULL,
					   sequence && track, batch, cascade, check, NULL, NULL, NULL, 0, 0 };
			pthread_create(&th[t], NULL, run_job, &jobs[t]);
		}
		for (int t = 0; t < threads; t++)
			pthread_join(th[t], NULL);
		double wall = now_s() - t0;
		printf("%d threads: %.1f dials per second (%d dials each)\n", threads, threads * n / wall, n);
	}
	for (int i = 0; i < n; i++)
		mtb_image_destroy(img[i]);
	free(img);
	free(truth);
	free(res);
	free(t_read);
	free(pos);
	return 0;
}

#include "bench/dial_reader.h"

#include "hal/camera.h"
#include "vision/layout.h"
#include "vision/register.h"
#include "vision/vision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CAMS 64

struct mtb_dial_reader {
	int n;
	int position[MAX_CAMS];
	struct mtb_camera *cam[MAX_CAMS];
	/* One aligner per camera: each frame is looked for near the pose found on that camera's
	 * previous frame (vision/register.h, mtb_register_align_next). */
	struct mtb_register_aligner *aligner[MAX_CAMS];
	struct mtb_layout layout;
	struct mtb_vision *vision;
	struct mtb_bench_io_hal *io;
	const struct mtb_log *log;
};

static int read_digit(void *user, const struct mtb_image *crop, struct mtb_reading *out)
{
	return mtb_vision_read_digit(user, crop, out);
}

static int read_needle(void *user, const struct mtb_image *crop, struct mtb_reading *out)
{
	return mtb_vision_read_needle(user, crop, out);
}

static int read_digits(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return mtb_vision_read_digits(user, crops, n, out);
}

static int read_needles(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return mtb_vision_read_needles(user, crops, n, out);
}

static int check_needles(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out)
{
	return mtb_vision_check_needles(user, crops, n, out);
}

int mtb_dial_reader_create(struct mtb_dial_reader **out, const struct mtb_bench_cfg *cfg, const int *positions, int n,
			   const char *layout_name, struct mtb_bench_io_hal *io, const struct mtb_log *log,
			   struct mtb_errbuf *eb)
{
	*out = NULL;
	if (n > MAX_CAMS)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "too many meters (%d)", n);
	struct mtb_dial_reader *r = calloc(1, sizeof *r);
	if (!r)
		return MTB_ERR_NOMEM;
	r->io = io;
	r->log = log;
	int rc = mtb_layout_load(layout_name, &r->layout, eb);
	if (rc == MTB_OK)
		rc = mtb_vision_create(&r->vision, NULL, eb);
	struct mtb_camera_opts co = { .clock = mtb_bench_io_hal_clock(io), .log = log };
	for (int i = 0; rc == MTB_OK && i < n; i++) {
		const struct mtb_camera_cfg *cc = NULL;
		for (int k = 0; k < cfg->n_cameras; k++)
			if (cfg->cameras[k].position == positions[i])
				cc = &cfg->cameras[k];
		if (!cc) {
			rc = mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: no camera for meter position %d", cfg->origin, positions[i]);
			break;
		}
		r->position[r->n] = positions[i];
		rc = mtb_register_aligner_create(&r->layout, &r->aligner[r->n], eb);
		if (rc == MTB_OK && (rc = mtb_camera_open(&r->cam[r->n], cc, &co, eb)) != MTB_OK) {
			mtb_register_aligner_destroy(r->aligner[r->n]);
			r->aligner[r->n] = NULL;
		}
		if (rc == MTB_OK)
			r->n++;
	}
	if (rc != MTB_OK) {
		mtb_dial_reader_destroy(r);
		return rc;
	}
	*out = r;
	return MTB_OK;
}

void mtb_dial_reader_destroy(struct mtb_dial_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++) {
		mtb_camera_close(r->cam[i]);
		mtb_register_aligner_destroy(r->aligner[i]);
	}
	mtb_vision_destroy(r->vision);
	free(r);
}

int mtb_dial_reader_read(void *user, int position, struct mtb_dial_obs *out)
{
	struct mtb_dial_reader *r = user;
	struct mtb_camera *cam = NULL;
	struct mtb_register_aligner *al = NULL;
	for (int i = 0; i < r->n; i++)
		if (r->position[i] == position) {
			cam = r->cam[i];
			al = r->aligner[i];
		}
	out->position = position;
	out->ok = false;
	if (!cam) {
		snprintf(out->reason, sizeof out->reason, "no camera at position %d", position);
		return MTB_ERR_NOTFOUND;
	}
	struct mtb_image *img = NULL;
	struct mtb_errbuf eb = { { 0 } };
	int rc = mtb_camera_grab(cam, &img, &eb);
	if (rc != MTB_OK) {
		snprintf(out->reason, sizeof out->reason, "camera: %.80s", eb.msg);
		return rc;
	}
	out->t_us = mtb_bench_io_hal_sim_to_bench_us(r->io, img->t_mono_us);
	struct mtb_register_readers rd = { read_digit, read_needle, r->vision, read_digits, read_needles,
					   check_needles };
	struct mtb_register_fuse_opts fo = MTB_REGISTER_FUSE_DEFAULTS;
	struct mtb_register_result res;
	rc = mtb_register_read_next(al, img, &rd, &fo, &res, NULL, &eb);
	/* The frame is evidence whether or not it could be read. */
	if (mtb_image_encode_jpeg(img, 85, &out->jpeg, &out->jpeg_len, &eb) != MTB_OK) {
		out->jpeg = NULL;
		out->jpeg_len = 0;
	}
	mtb_image_destroy(img);
	if (rc != MTB_OK) {
		snprintf(out->reason, sizeof out->reason, "reader: %.80s", eb.msg);
		return rc;
	}
	if (res.refused) {
		snprintf(out->reason, sizeof out->reason, "%.95s", res.reason);
		return MTB_ERR_REFUSED;
	}
	out->ok = true;
	out->volume_ul = res.volume_ul;
	out->confidence = res.confidence;
	out->resolution_l = res.resolution_ul / 1e6;
	return MTB_OK;
}

int mtb_dial_reader_capture(struct mtb_dial_reader *r, int position, unsigned char **jpeg, size_t *len,
			    struct mtb_errbuf *eb)
{
	*jpeg = NULL;
	*len = 0;
	struct mtb_camera *cam = NULL;
	for (int i = 0; i < r->n; i++)
		if (r->position[i] == position)
			cam = r->cam[i];
	if (!cam)
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "no camera at position %d", position);
	struct mtb_image *img = NULL;
	int rc = mtb_camera_grab(cam, &img, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_image_encode_jpeg(img, 85, jpeg, len, eb);
	mtb_image_destroy(img);
	return rc;
}

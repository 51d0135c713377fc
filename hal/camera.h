/* meterbench hal: cameras. A camera is opened from its bench-file entry (uri scheme picks the
 * driver, one const table per driver, one driver per file):
 *   http://HOST[:PORT]/PATH   a lab IP camera: a JPEG snapshot per grab, or, when the server
 *                             answers multipart/x-mixed-replace, an MJPEG stream kept open
 *                             (each grab returns the newest complete frame)
 *   dir:///PATH               replay: the directory's images in name order, round and round
 *   v4l2:///dev/videoN        a local camera through OpenCV videoio (needs hardware)
 *   sim:                      frames from a renderer handed in by the caller (the simulator
 *                             sits above hal, so it supplies the function)
 * Frames are core images (core/image.h), BGR, with t_mono_us: the X-Timestamp-Us header where
 * the server sends one (the simulator's clock), else the injected clock at reception. */
#ifndef MTB_HAL_CAMERA_H
#define MTB_HAL_CAMERA_H

#include "core/clock.h"
#include "core/err.h"
#include "core/image.h"
#include "core/log.h"
#include "hal/bench_cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_camera;

struct mtb_camera_opts {
	const struct mtb_clock *clock;   /* NULL: the system clock */
	const struct mtb_log *log;
	int timeout_ms;                  /* connect/read timeout, default 2000 */
	/* For sim: cameras: renders the dial at `position` for the instant now on `clock`. */
	int (*sim_render)(void *user, int position, int64_t t_us, struct mtb_image **out, struct mtb_errbuf *eb);
	void *sim_user;
};

/* Opens the camera (no traffic yet for http://; the directory is listed for dir://). */
int mtb_camera_open(struct mtb_camera **out, const struct mtb_camera_cfg *cfg, const struct mtb_camera_opts *opts,
		    struct mtb_errbuf *eb);

/* Grabs one frame; the caller owns *out (mtb_image_destroy). Thread-safe per camera. */
int mtb_camera_grab(struct mtb_camera *cam, struct mtb_image **out, struct mtb_errbuf *eb);

void mtb_camera_close(struct mtb_camera *cam);

/* "http", "dir", "v4l2", "sim". */
const char *mtb_camera_kind(const struct mtb_camera *cam);

#ifdef __cplusplus
}
#endif
#endif

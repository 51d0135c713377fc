/* Camera driver: a local V4L2 device (v4l2:///dev/videoN) through OpenCV videoio. Needs a real
 * device: not exercised by the tests here. */
#include "hal/camera_priv.h"

#include <string.h>

static int v4l2_open(struct mtb_camera *cam, struct mtb_errbuf *eb)
{
	const char *dev = cam->cfg.uri + strlen("v4l2://");
	if (dev[0] != '/')
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': expected v4l2:///dev/videoN", cam->cfg.uri);
	char err[256] = "";
	int rc = mtb_cv_capture_open(dev, &cam->priv, err, sizeof err);
	return rc == MTB_OK ? MTB_OK : mtb_errbuf_set(eb, rc, "%s", err);
}

static int v4l2_grab(struct mtb_camera *cam, struct mtb_image **out, struct mtb_errbuf *eb)
{
	char err[256] = "";
	int rc = mtb_cv_capture_grab(cam->priv, out, err, sizeof err);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s", err);
	(*out)->t_mono_us = mtb_clock_now_us(cam->clock);
	return MTB_OK;
}

static void v4l2_close(struct mtb_camera *cam) { mtb_cv_capture_close(cam->priv); }

const struct mtb_camera_driver mtb_cam_v4l2 = { "v4l2://", "v4l2", v4l2_open, v4l2_grab, v4l2_close };

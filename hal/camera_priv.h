/* meterbench hal, private: camera drivers and the OpenCV wrapper (cv_camera.cpp). */
#ifndef MTB_HAL_CAMERA_PRIV_H
#define MTB_HAL_CAMERA_PRIV_H

#include "hal/camera.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_camera_driver {
	const char *scheme;   /* uri prefix: "http://", "dir://", "v4l2://", "sim:" */
	const char *kind;
	int (*open)(struct mtb_camera *cam, struct mtb_errbuf *eb);
	int (*grab)(struct mtb_camera *cam, struct mtb_image **out, struct mtb_errbuf *eb);
	void (*close)(struct mtb_camera *cam);
};

struct mtb_camera {
	struct mtb_camera_cfg cfg;
	struct mtb_camera_opts opts;
	const struct mtb_clock *clock;
	const struct mtb_camera_driver *drv;
	pthread_mutex_t mu;
	void *priv;
};

extern const struct mtb_camera_driver mtb_cam_http, mtb_cam_dir, mtb_cam_v4l2, mtb_cam_sim;

/* ---- the OpenCV wrapper: C interface, no cv:: types, every exception caught ---- */

/* Decodes an encoded image (JPEG, PNG, ...) into a BGR core image. MTB_ERR_PROTO when the
 * bytes are not an image; err receives OpenCV's reason. */
int mtb_cv_decode(const uint8_t *data, size_t len, struct mtb_image **out, char *err, size_t err_len);

/* A V4L2 device through videoio. */
int mtb_cv_capture_open(const char *device, void **handle, char *err, size_t err_len);
int mtb_cv_capture_grab(void *handle, struct mtb_image **out, char *err, size_t err_len);
void mtb_cv_capture_close(void *handle);

#ifdef __cplusplus
}
#endif
#endif

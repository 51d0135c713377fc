/* Camera registry and API; see camera.h. */
#include "hal/camera_priv.h"

#include <stdlib.h>
#include <string.h>

static const struct mtb_camera_driver *const DRIVERS[] = { &mtb_cam_http, &mtb_cam_dir, &mtb_cam_v4l2, &mtb_cam_sim };

int mtb_camera_open(struct mtb_camera **out, const struct mtb_camera_cfg *cfg, const struct mtb_camera_opts *opts,
		    struct mtb_errbuf *eb)
{
	*out = NULL;
	const struct mtb_camera_driver *drv = NULL;
	for (size_t i = 0; i < sizeof DRIVERS / sizeof DRIVERS[0]; i++)
		if (strncmp(cfg->uri, DRIVERS[i]->scheme, strlen(DRIVERS[i]->scheme)) == 0)
			drv = DRIVERS[i];
	if (!drv)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "camera '%s': '%s': scheme must be http://, dir://, v4l2:// or sim:",
				      cfg->name, cfg->uri);
	struct mtb_camera *cam = calloc(1, sizeof *cam);
	if (!cam)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	cam->cfg = *cfg;
	if (opts)
		cam->opts = *opts;
	if (cam->opts.timeout_ms <= 0)
		cam->opts.timeout_ms = 2000;
	cam->clock = cam->opts.clock ? cam->opts.clock : &mtb_clock_system;
	cam->drv = drv;
	int rc = drv->open(cam, eb);
	if (rc != MTB_OK) {
		free(cam);
		return mtb_errbuf_prefix(eb, rc, "camera '%s'", cfg->name);
	}
	pthread_mutex_init(&cam->mu, NULL);
	*out = cam;
	return MTB_OK;
}

int mtb_camera_grab(struct mtb_camera *cam, struct mtb_image **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	pthread_mutex_lock(&cam->mu);
	int rc = cam->drv->grab(cam, out, eb);
	pthread_mutex_unlock(&cam->mu);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "camera '%s'", cam->cfg.name);
	return MTB_OK;
}

void mtb_camera_close(struct mtb_camera *cam)
{
	if (!cam)
		return;
	if (cam->drv->close)
		cam->drv->close(cam);
	pthread_mutex_destroy(&cam->mu);
	free(cam);
}

const char *mtb_camera_kind(const struct mtb_camera *cam) { return cam->drv->kind; }

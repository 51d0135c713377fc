/* Camera driver: sim: frames rendered by a function the caller hands in (the simulator is a
 * layer above hal, so hal cannot call it by name). */
#include "hal/camera_priv.h"

static int sim_open(struct mtb_camera *cam, struct mtb_errbuf *eb)
{
	if (!cam->opts.sim_render)
		return mtb_errbuf_set(eb, MTB_ERR_NOTSUP,
				      "'%s' needs a renderer from the simulator; a bench talking to meterbench sim "
				      "uses its HTTP cameras (http://127.0.0.1:15080/camera/N/snapshot.jpg)",
				      cam->cfg.uri);
	return MTB_OK;
}

static int sim_grab(struct mtb_camera *cam, struct mtb_image **out, struct mtb_errbuf *eb)
{
	int64_t t = mtb_clock_now_us(cam->clock);
	int rc = cam->opts.sim_render(cam->opts.sim_user, cam->cfg.position, t, out, eb);
	if (rc == MTB_OK && *out)
		(*out)->t_mono_us = t;
	return rc;
}

const struct mtb_camera_driver mtb_cam_sim = { "sim:", "sim", sim_open, sim_grab, NULL };

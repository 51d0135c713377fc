/* Driver: control valve, position set point and (optional) position feedback in %. */
#include "hal/hal_priv.h"

#include <math.h>

static int set_pct(struct mtb_device *d, double pct, struct mtb_errbuf *eb)
{
	if (!(pct >= 0 && pct <= 100))
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "%s: position %g %% outside 0-100 %%", d->cfg->name, pct);
	return mtb_dev_write(d, "position_set", pct, eb);
}

static int read_pct(struct mtb_device *d, double *pct, int64_t *t_us, struct mtb_errbuf *eb)
{
	/* The feedback where the map has it, else the set point read back. */
	const char *name = mtb_dev_point(d, "position") ? "position" : "position_set";
	struct mtb_sample s;
	int rc = mtb_dev_read(d, &name, 1, &s, NULL, eb);
	if (rc != MTB_OK)
		return rc;
	*pct = s.value;
	if (t_us)
		*t_us = s.t_us;
	return MTB_OK;
}

static const struct mtb_control_valve_ops OPS = { .set_pct = set_pct, .read_pct = read_pct };

const struct mtb_driver mtb_drv_control_valve = {
	.cls = MTB_DEV_CONTROL_VALVE, .name = "control-valve", .control_valve = &OPS,
};

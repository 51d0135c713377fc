/* Driver: pressure transmitter, one `pressure` point in the map's unit. */
#include "hal/hal_priv.h"

static int read_p(struct mtb_device *d, double *value, const char **unit, int64_t *t_us, struct mtb_errbuf *eb)
{
	static const char *const name = "pressure";
	struct mtb_sample s;
	int rc = mtb_dev_read(d, &name, 1, &s, NULL, eb);
	if (rc != MTB_OK)
		return rc;
	*value = s.value;
	if (unit)
		*unit = mtb_dev_point(d, name)->unit;
	if (t_us)
		*t_us = s.t_us;
	return MTB_OK;
}

static const struct mtb_transmitter_ops OPS = { .read = read_p };

const struct mtb_driver mtb_drv_pressure = { .cls = MTB_DEV_PRESSURE, .name = "pressure", .transmitter = &OPS };

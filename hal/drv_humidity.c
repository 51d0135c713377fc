/* Driver: relative humidity transmitter, one `humidity` point in the map's unit (%RH). */
#include "hal/hal_priv.h"

static int read_rh(struct mtb_device *d, double *value, const char **unit, int64_t *t_us, struct mtb_errbuf *eb)
{
	static const char *const name = "humidity";
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

static const struct mtb_transmitter_ops OPS = { .read = read_rh };

const struct mtb_driver mtb_drv_humidity = { .cls = MTB_DEV_HUMIDITY, .name = "humidity", .transmitter = &OPS };

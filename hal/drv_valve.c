/* Driver: on/off valve, a command (coil or register) and optional end switches. */
#include "hal/hal_priv.h"

static int set_open(struct mtb_device *d, bool open, struct mtb_errbuf *eb)
{
	return mtb_dev_write(d, "open_cmd", open ? 1 : 0, eb);
}

static int read_state(struct mtb_device *d, struct mtb_valve_state *st, struct mtb_errbuf *eb)
{
	static const char *const names[] = { "open_cmd", "is_open", "is_closed" };
	struct mtb_sample s[3];
	bool have[3];
	int rc = mtb_dev_read(d, names, 3, s, have, eb);
	if (rc != MTB_OK)
		return rc;
	st->cmd_open = s[0].value != 0;
	st->has_switches = have[1] || have[2];
	st->is_open = have[1] && s[1].value != 0;
	st->is_closed = have[2] && s[2].value != 0;
	st->t_mono_us = have[1] ? s[1].t_us : have[2] ? s[2].t_us : s[0].t_us;
	return MTB_OK;
}

static const struct mtb_valve_ops OPS = { .set_open = set_open, .read = read_state };

const struct mtb_driver mtb_drv_valve = { .cls = MTB_DEV_VALVE, .name = "valve", .valve = &OPS };

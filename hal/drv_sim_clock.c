/* Driver: the simulator's lockstep clock (docs/sim-register-map.md, unit 100): read its time,
 * write an advance. Access only; stepping policy belongs to the sequencer. */
#include "hal/hal_priv.h"

#include <math.h>

static int read_us(struct mtb_device *d, uint64_t *t_us, struct mtb_errbuf *eb)
{
	static const char *const name = "time_us";
	struct mtb_sample s;
	int rc = mtb_dev_read(d, &name, 1, &s, NULL, eb);
	if (rc != MTB_OK)
		return rc;
	switch (s.raw.type) {
	case MTB_REG_UINT16: case MTB_REG_UINT32: case MTB_REG_UINT64:
		*t_us = s.raw.v.u;
		break;
	default:
		if (!(s.value >= 0))
			return mtb_errbuf_set(eb, MTB_ERR_PROTO, "%s: negative time %g", d->cfg->name, s.value);
		*t_us = (uint64_t)llround(s.value);
	}
	return MTB_OK;
}

static int advance_us(struct mtb_device *d, uint32_t dt_us, struct mtb_errbuf *eb)
{
	/* Not an actuator: allowed in the safe state, so the plant can be watched settling. */
	return mtb_dev_write_unguarded(d, "advance_us", (double)dt_us, eb);
}

static const struct mtb_sim_clock_ops OPS = { .read_us = read_us, .advance_us = advance_us };

const struct mtb_driver mtb_drv_sim_clock = { .cls = MTB_DEV_SIM_CLOCK, .name = "sim-clock", .sim_clock = &OPS };

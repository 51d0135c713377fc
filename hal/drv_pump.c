/* Driver: pump or variable-frequency drive: run command, frequency set point and feedback,
 * fault bit (the last three optional in the map). */
#include "hal/hal_priv.h"

#include <math.h>

static int set_run(struct mtb_device *d, bool run, struct mtb_errbuf *eb)
{
	return mtb_dev_write(d, "run", run ? 1 : 0, eb);
}

static int set_frequency_hz(struct mtb_device *d, double hz, struct mtb_errbuf *eb)
{
	if (!(hz >= 0 && hz <= 400))
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "%s: frequency %g Hz outside 0-400 Hz", d->cfg->name, hz);
	return mtb_dev_write(d, "frequency_set", hz, eb);
}

static int read_state(struct mtb_device *d, struct mtb_pump_state *st, struct mtb_errbuf *eb)
{
	static const char *const names[] = { "run", "frequency", "fault" };
	struct mtb_sample s[3];
	bool have[3];
	int rc = mtb_dev_read(d, names, 3, s, have, eb);
	if (rc != MTB_OK)
		return rc;
	st->running = s[0].value != 0;
	st->frequency_hz = have[1] ? s[1].value : NAN;
	st->fault = have[2] && s[2].value != 0;
	st->t_mono_us = have[1] ? s[1].t_us : s[0].t_us;
	return MTB_OK;
}

static const struct mtb_pump_ops OPS = { .set_run = set_run, .set_frequency_hz = set_frequency_hz, .read = read_state };

const struct mtb_driver mtb_drv_pump = { .cls = MTB_DEV_PUMP, .name = "pump", .pump = &OPS };

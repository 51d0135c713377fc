/* Driver: reference flow meter: flow rate, totaliser and (optional) pulse count. The map's units
 * are converted here: flow to L/h, the totaliser to integer microlitres. */
#include "hal/hal_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct units {
	double flow_to_lph;
	double tot_to_ul;
};

static const struct {
	const char *unit;
	double factor;
} FLOW_UNITS[] = { { "L/h", 1 }, { "m3/h", 1000 }, { "L/min", 60 }, { "L/s", 3600 } },
  VOLUME_UNITS[] = { { "L", 1e6 }, { "m3", 1e9 }, { "mL", 1e3 } };

static int open_ref(struct mtb_device *d, struct mtb_errbuf *eb)
{
	struct units *u = calloc(1, sizeof *u);
	if (!u)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "%s: out of memory", d->cfg->name);
	const struct mtb_point_cfg *f = mtb_dev_point(d, "flow"), *t = mtb_dev_point(d, "totaliser");
	for (size_t i = 0; i < sizeof FLOW_UNITS / sizeof FLOW_UNITS[0]; i++)
		if (strcmp(f->unit, FLOW_UNITS[i].unit) == 0)
			u->flow_to_lph = FLOW_UNITS[i].factor;
	for (size_t i = 0; i < sizeof VOLUME_UNITS / sizeof VOLUME_UNITS[0]; i++)
		if (strcmp(t->unit, VOLUME_UNITS[i].unit) == 0)
			u->tot_to_ul = VOLUME_UNITS[i].factor;
	if (!u->flow_to_lph || !u->tot_to_ul) {
		bool flow_bad = !u->flow_to_lph;
		free(u);
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "device '%s': %s unit '%s' not understood (%s)", d->cfg->name,
				      flow_bad ? "flow" : "totaliser", flow_bad ? f->unit : t->unit,
				      flow_bad ? "L/h, m3/h, L/min, L/s" : "L, m3, mL");
	}
	d->priv = u;
	return MTB_OK;
}

static void close_ref(struct mtb_device *d)
{
	free(d->priv);
	d->priv = NULL;
}

static int read_ref(struct mtb_device *d, struct mtb_reference_sample *out, struct mtb_errbuf *eb)
{
	static const char *const names[] = { "flow", "totaliser", "pulses" };
	const struct units *u = d->priv;
	struct mtb_sample s[3];
	bool have[3];
	int rc = mtb_dev_read(d, names, 3, s, have, eb);
	if (rc != MTB_OK)
		return rc;
	double ul = s[1].value * u->tot_to_ul;
	if (!isfinite(ul) || fabs(ul) > 9e18)
		return mtb_errbuf_set(eb, MTB_ERR_RANGE, "%s: totaliser value %g out of range", d->cfg->name, s[1].value);
	out->flow_lph = s[0].value * u->flow_to_lph;
	out->totaliser_ul = llround(ul);
	out->has_pulses = have[2];
	out->pulses = 0;
	if (have[2])
		out->pulses = s[2].raw.type == MTB_REG_UINT32 || s[2].raw.type == MTB_REG_UINT64 || s[2].raw.type == MTB_REG_UINT16
				      ? s[2].raw.v.u
				      : (uint64_t)llround(s[2].value);
	out->pulses_per_l = d->cfg->pulses_per_l;
	out->t_mono_us = s[1].t_us;
	return MTB_OK;
}

static const struct mtb_reference_ops OPS = { .read = read_ref };

const struct mtb_driver mtb_drv_reference = {
	.cls = MTB_DEV_REFERENCE, .name = "reference-meter", .open = open_ref, .close = close_ref, .reference = &OPS,
};

/* The driver registry and the typed device API dispatching through each class's table. */
#include "hal/hal_priv.h"

#include <stddef.h>
#include <string.h>

static const struct mtb_driver *const DRIVERS[] = {
	&mtb_drv_valve, &mtb_drv_control_valve, &mtb_drv_pump, &mtb_drv_reference,
	&mtb_drv_pressure, &mtb_drv_temperature, &mtb_drv_sim_clock, &mtb_drv_balance, &mtb_drv_balance_sbi,
	&mtb_drv_humidity,
};

/* Whether the space-separated list has the word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; n && (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

const struct mtb_driver *mtb_driver_find(const struct mtb_device_cfg *cfg)
{
	for (size_t i = 0; i < sizeof DRIVERS / sizeof DRIVERS[0]; i++)
		if (DRIVERS[i]->cls == cfg->cls && (!DRIVERS[i]->protocols || has_word(DRIVERS[i]->protocols, cfg->protocol)))
			return DRIVERS[i];
	return NULL;
}

const struct mtb_device_cfg *mtb_device_config(const struct mtb_device *dev) { return dev->cfg; }

static int notsup(const struct mtb_device *d, const char *what, struct mtb_errbuf *eb)
{
	return mtb_errbuf_set(eb, MTB_ERR_NOTSUP, "%s: a %s cannot %s", d ? d->cfg->name : "(no device)",
			      d ? mtb_device_class_name(d->cfg->cls) : "?", what);
}

#define DISPATCH(dev, table, fn, what, ...) \
	((dev) && (dev)->drv->table && (dev)->drv->table->fn ? (dev)->drv->table->fn((dev), __VA_ARGS__) \
							      : notsup((dev), (what), eb))

int mtb_valve_set_open(struct mtb_device *dev, bool open, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, valve, set_open, "open or close as an on/off valve", open, eb);
}
int mtb_valve_read(struct mtb_device *dev, struct mtb_valve_state *st, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, valve, read, "report end switches", st, eb);
}
int mtb_control_valve_set_pct(struct mtb_device *dev, double pct, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, control_valve, set_pct, "take a position in %", pct, eb);
}
int mtb_control_valve_read_pct(struct mtb_device *dev, double *pct, int64_t *t_mono_us, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, control_valve, read_pct, "report a position", pct, t_mono_us, eb);
}
int mtb_pump_set_run(struct mtb_device *dev, bool run, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, pump, set_run, "run or stop as a pump", run, eb);
}
int mtb_pump_set_frequency_hz(struct mtb_device *dev, double hz, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, pump, set_frequency_hz, "take a frequency", hz, eb);
}
int mtb_pump_read(struct mtb_device *dev, struct mtb_pump_state *st, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, pump, read, "report a pump state", st, eb);
}
int mtb_reference_read(struct mtb_device *dev, struct mtb_reference_sample *s, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, reference, read, "report flow and totaliser", s, eb);
}
int mtb_transmitter_read(struct mtb_device *dev, double *value, const char **unit, int64_t *t_mono_us,
			 struct mtb_errbuf *eb)
{
	return DISPATCH(dev, transmitter, read, "report a measured value", value, unit, t_mono_us, eb);
}
int mtb_sim_clock_read_us(struct mtb_device *dev, uint64_t *t_us, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, sim_clock, read_us, "report simulated time", t_us, eb);
}
int mtb_sim_clock_advance_us(struct mtb_device *dev, uint32_t dt_us, struct mtb_errbuf *eb)
{
	return DISPATCH(dev, sim_clock, advance_us, "advance simulated time", dt_us, eb);
}
int mtb_balance_read_mg(struct mtb_device *dev, int64_t *mass_mg, bool *stable, int64_t *t_mono_us,
			struct mtb_errbuf *eb)
{
	return DISPATCH(dev, balance, read_mg, "weigh", mass_mg, stable, t_mono_us, eb);
}
int mtb_balance_tare(struct mtb_device *dev, struct mtb_errbuf *eb)
{
	return (dev && dev->drv->balance && dev->drv->balance->tare) ? dev->drv->balance->tare(dev, eb)
								       : notsup(dev, "tare", eb);
}
int mtb_balance_zero(struct mtb_device *dev, struct mtb_errbuf *eb)
{
	return (dev && dev->drv->balance && dev->drv->balance->zero) ? dev->drv->balance->zero(dev, eb)
								       : notsup(dev, "set zero", eb);
}

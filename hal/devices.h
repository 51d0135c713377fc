/* meterbench hal: typed access to the bench's devices, one const driver table per class
 * (hal_priv.h), one driver per file (drv_*.c). A function called on a device of another class
 * returns MTB_ERR_NOTSUP. Every reading carries t_mono_us from the HAL's injected clock. */
#ifndef MTB_HAL_DEVICES_H
#define MTB_HAL_DEVICES_H

#include "core/err.h"
#include "hal/bench_cfg.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_hal;
struct mtb_device;

/* Borrowed handle of a device by name (valid until mtb_hal_destroy); NULL if absent. */
struct mtb_device *mtb_hal_device(struct mtb_hal *hal, const char *name);
const struct mtb_device_cfg *mtb_device_config(const struct mtb_device *dev);

/* On/off valve with end switches. */
struct mtb_valve_state {
	bool cmd_open;            /* what it was told */
	bool is_open, is_closed;  /* end switches; both false while travelling (absent: false) */
	bool has_switches;
	int64_t t_mono_us;
};
int mtb_valve_set_open(struct mtb_device *dev, bool open, struct mtb_errbuf *eb);
int mtb_valve_read(struct mtb_device *dev, struct mtb_valve_state *st, struct mtb_errbuf *eb);

/* Control valve, 0-100 % opening. */
int mtb_control_valve_set_pct(struct mtb_device *dev, double pct, struct mtb_errbuf *eb);
int mtb_control_valve_read_pct(struct mtb_device *dev, double *pct, int64_t *t_mono_us, struct mtb_errbuf *eb);

/* Pump or variable-frequency drive. */
struct mtb_pump_state {
	bool running;             /* the run command as read back */
	double frequency_hz;      /* actual output; NAN when the map has no `frequency` */
	bool fault;
	int64_t t_mono_us;
};
int mtb_pump_set_run(struct mtb_device *dev, bool run, struct mtb_errbuf *eb);
int mtb_pump_set_frequency_hz(struct mtb_device *dev, double hz, struct mtb_errbuf *eb);
int mtb_pump_read(struct mtb_device *dev, struct mtb_pump_state *st, struct mtb_errbuf *eb);

/* Reference flow meter: flow, totaliser and pulse count read in one exchange where the map
 * allows (one timestamp for all three). */
struct mtb_reference_sample {
	double flow_lph;
	int64_t totaliser_ul;     /* integer microlitres (accumulated volumes are exact integers) */
	bool has_pulses;
	uint64_t pulses;
	double pulses_per_l;      /* from the bench file; 0 when absent */
	int64_t t_mono_us;
};
int mtb_reference_read(struct mtb_device *dev, struct mtb_reference_sample *s, struct mtb_errbuf *eb);

/* Pressure and temperature transmitters: value in the point's unit (kPa, C ...). */
int mtb_transmitter_read(struct mtb_device *dev, double *value, const char **unit, int64_t *t_mono_us,
			 struct mtb_errbuf *eb);

/* The simulator's lockstep clock: its time, and an advance (the simulation runs that far, then
 * replies). No lockstep logic lives here. */
int mtb_sim_clock_read_us(struct mtb_device *dev, uint64_t *t_us, struct mtb_errbuf *eb);
int mtb_sim_clock_advance_us(struct mtb_device *dev, uint32_t dt_us, struct mtb_errbuf *eb);

/* Balance on a serial line (MT-SICS, Sartorius SBI or a generic line protocol): the mass in
 * milligrams now and whether the balance calls it stable. MTB_ERR_TIMEOUT: no reply;
 * MTB_ERR_RANGE: overload or underload; MTB_ERR_REFUSED: the balance declined (busy, error
 * display, adjustment); MTB_ERR_PROTO: a reply that is not the protocol's. */
int mtb_balance_read_mg(struct mtb_device *dev, int64_t *mass_mg, bool *stable, int64_t *t_mono_us,
			struct mtb_errbuf *eb);
/* Tare (the display shows the net mass from now on) and zero; MTB_OK once the balance has
 * done it, MTB_ERR_REFUSED when it did not (not stable within the device's timeout),
 * MTB_ERR_RANGE outside its tare or zero range. The generic line protocol cannot
 * (MTB_ERR_NOTSUP). */
int mtb_balance_tare(struct mtb_device *dev, struct mtb_errbuf *eb);
int mtb_balance_zero(struct mtb_device *dev, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

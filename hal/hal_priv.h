/* meterbench hal, private: the device handle and the per-class driver tables. */
#ifndef MTB_HAL_HAL_PRIV_H
#define MTB_HAL_HAL_PRIV_H

#include "hal/devices.h"
#include "hal/hal.h"

struct mtb_driver;

struct mtb_device {
	struct mtb_hal *hal;
	int index;
	const struct mtb_device_cfg *cfg;
	const struct mtb_driver *drv;
	struct mtb_bus *bus;                  /* NULL for serial-line devices */
	int block[MTB_BENCH_MAX_POINTS];      /* the bus block holding each point */
	int offset[MTB_BENCH_MAX_POINTS];     /* register or bit offset inside that block */
	void *priv;                           /* driver state */
};

/* One small table per class; NULL entries: not supported. */
struct mtb_valve_ops {
	int (*set_open)(struct mtb_device *d, bool open, struct mtb_errbuf *eb);
	int (*read)(struct mtb_device *d, struct mtb_valve_state *st, struct mtb_errbuf *eb);
};
struct mtb_control_valve_ops {
	int (*set_pct)(struct mtb_device *d, double pct, struct mtb_errbuf *eb);
	int (*read_pct)(struct mtb_device *d, double *pct, int64_t *t_us, struct mtb_errbuf *eb);
};
struct mtb_pump_ops {
	int (*set_run)(struct mtb_device *d, bool run, struct mtb_errbuf *eb);
	int (*set_frequency_hz)(struct mtb_device *d, double hz, struct mtb_errbuf *eb);
	int (*read)(struct mtb_device *d, struct mtb_pump_state *st, struct mtb_errbuf *eb);
};
struct mtb_reference_ops {
	int (*read)(struct mtb_device *d, struct mtb_reference_sample *s, struct mtb_errbuf *eb);
};
struct mtb_transmitter_ops {
	int (*read)(struct mtb_device *d, double *value, const char **unit, int64_t *t_us, struct mtb_errbuf *eb);
};
struct mtb_sim_clock_ops {
	int (*read_us)(struct mtb_device *d, uint64_t *t_us, struct mtb_errbuf *eb);
	int (*advance_us)(struct mtb_device *d, uint32_t dt_us, struct mtb_errbuf *eb);
};
struct mtb_balance_ops {
	int (*read_mg)(struct mtb_device *d, int64_t *mass_mg, bool *stable, int64_t *t_us, struct mtb_errbuf *eb);
	int (*tare)(struct mtb_device *d, struct mtb_errbuf *eb);
	int (*zero)(struct mtb_device *d, struct mtb_errbuf *eb);
};

struct mtb_driver {
	enum mtb_device_class cls;
	const char *name;
	const char *protocols;   /* balances: the bench file's protocols it speaks, space-separated */
	int (*open)(struct mtb_device *d, struct mtb_errbuf *eb);   /* may be NULL */
	void (*close)(struct mtb_device *d);                        /* may be NULL */
	const struct mtb_valve_ops *valve;
	const struct mtb_control_valve_ops *control_valve;
	const struct mtb_pump_ops *pump;
	const struct mtb_reference_ops *reference;
	const struct mtb_transmitter_ops *transmitter;
	const struct mtb_sim_clock_ops *sim_clock;
	const struct mtb_balance_ops *balance;
};

extern const struct mtb_driver mtb_drv_valve, mtb_drv_control_valve, mtb_drv_pump, mtb_drv_reference,
	mtb_drv_pressure, mtb_drv_temperature, mtb_drv_sim_clock, mtb_drv_balance, mtb_drv_balance_sbi,
	mtb_drv_humidity;

/* The registry: the driver of a device (its class, and for a balance its protocol), or NULL. */
const struct mtb_driver *mtb_driver_find(const struct mtb_device_cfg *cfg);

/* ---- helpers for Modbus drivers ---- */

/* Reads the named points now (each distinct block once, control priority). present[i] says
 * whether the map has point i (may be NULL: then every name must exist). */
int mtb_dev_read(struct mtb_device *d, const char *const *names, int n, struct mtb_sample *out,
		 bool *present, struct mtb_errbuf *eb);

/* Writes a point (engineering value), refused while the safe state is active. */
int mtb_dev_write(struct mtb_device *d, const char *point, double value, struct mtb_errbuf *eb);

/* The same without the safe-state check, for writes that command no actuator (the simulator's
 * clock advance). */
int mtb_dev_write_unguarded(struct mtb_device *d, const char *point, double value, struct mtb_errbuf *eb);

const struct mtb_point_cfg *mtb_dev_point(const struct mtb_device *d, const char *name);
const struct mtb_clock *mtb_hal_clock(const struct mtb_hal *hal);
const struct mtb_log *mtb_hal_log(const struct mtb_hal *hal);

#endif

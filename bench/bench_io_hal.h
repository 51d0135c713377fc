/* meterbench bench: the bench port over the HAL -- real benches and the simulated one alike,
 * through real Modbus frames. Devices are found by class in the bench file (the first reference
 * meter, control valve, pump and on/off valve; the first and last pressure and temperature
 * transmitters are the inlet/reference and the outlet). Dials are read by a reader the caller
 * supplies (cameras + vision), so this file knows no pixels. */
#ifndef MTB_BENCH_BENCH_IO_HAL_H
#define MTB_BENCH_BENCH_IO_HAL_H

#include "bench/bench_io.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "hal/bench_cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_bench_io_hal;

/* Reads one meter's dial at the current instant (one frame). */
typedef int (*mtb_dial_reader_fn)(void *user, int position, struct mtb_dial_obs *out);

struct mtb_bench_io_hal_opts {
	bool lockstep;                   /* the bench clock is the simulator's (sim-clock device) */
	double pace;                     /* lockstep only: bench time runs at most pace x wall time (a
					  * demonstration people watch); 0: as fast as the simulator answers */
	const struct mtb_clock *wall;    /* wall clock for pace; NULL: the system's monotonic clock */
	mtb_dial_reader_fn read_dial;
	void *read_dial_user;
	const struct mtb_log *log;
};

/* Builds the HAL from cfg (which must outlive the port) and checks that the devices a run needs
 * are there. In lockstep the HAL's clock is the simulator's. */
int mtb_bench_io_hal_create(struct mtb_bench_io_hal **out, const struct mtb_bench_cfg *cfg,
			    const struct mtb_bench_io_hal_opts *opts, struct mtb_errbuf *eb);
void mtb_bench_io_hal_destroy(struct mtb_bench_io_hal *h);

/* Sets (or replaces) the dial reader; the reader may need the port's clock, so it can come after. */
void mtb_bench_io_hal_set_dial_reader(struct mtb_bench_io_hal *h, mtb_dial_reader_fn fn, void *user);

/* The port's vtable and context. */
struct mtb_bench_io mtb_bench_io_hal_port(struct mtb_bench_io_hal *h);

/* The bench clock (lockstep: the simulator's), for frame timestamps of the dial reader. */
const struct mtb_clock *mtb_bench_io_hal_clock(struct mtb_bench_io_hal *h);

/* A simulator instant (e.g. a virtual camera's X-Timestamp-Us) on the bench clock. */
int64_t mtb_bench_io_hal_sim_to_bench_us(const struct mtb_bench_io_hal *h, int64_t sim_t_us);

/* Lockstep: advances the simulator's clock device by dt_us (in steps of at most 60 s, what one
 * advance register holds) and reads its time back into *sim_t_us. Shared by the water-meter
 * and the can ports. */
struct mtb_device;
int mtb_bench_lockstep_advance(struct mtb_device *sim_clock, int64_t dt_us, int64_t *sim_t_us,
			       struct mtb_errbuf *eb);

/* Pacing of a lockstep run (--pace X): bench time runs at most X times wall time, so that a
 * demonstration on the simulator can be watched. Shared by the water-meter and the can ports. */
struct mtb_bench_pace {
	double pace;                     /* 0: not paced */
	const struct mtb_clock *wall;
	int64_t sim0_us, wall0_us;       /* where bench time and wall time started */
};
void mtb_bench_pace_start(struct mtb_bench_pace *p, double pace, const struct mtb_clock *wall, int64_t sim_t_us);
/* After an advance to sim_t_us: sleeps until wall time has caught up with bench time / X, in
 * slices of at most 0.5 s that keep the HAL's heartbeat (10 s) alive. A run that fell behind (a
 * loaded machine) carries on from where it is: it never races ahead to make up the time. */
struct mtb_hal;
void mtb_bench_pace_wait(struct mtb_bench_pace *p, int64_t sim_t_us, struct mtb_hal *hal);

#ifdef __cplusplus
}
#endif
#endif

/* meterbench bench: the can procedure's port (bench/can_procedure.h) over the HAL -- a real can
 * bench and the simulated one alike: the fill and drain valves and the transmitters over Modbus,
 * the balance on its serial line, the neck camera read by the meniscus reader (vision). The
 * devices are found by name in the bench file: can_fill, can_drain (valves), balance,
 * t_can_water, t_air (temperature), p_air (pressure, hPa), rh_air (humidity), the camera `neck`,
 * and on the simulator the sim-clock (lockstep). Observers see every balance and meniscus
 * reading as it is taken, for the records. */
#ifndef MTB_BENCH_CAN_IO_HAL_H
#define MTB_BENCH_CAN_IO_HAL_H

#include "bench/can_procedure.h"
#include "calibration/vessel.h"
#include "core/err.h"
#include "core/log.h"
#include "hal/bench_cfg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_can_io_hal;

struct mtb_image;

struct mtb_can_io_hal_opts {
	bool lockstep;                    /* the bench clock is the simulator's (sim-clock device) */
	double pace;                      /* lockstep only: bench time at most pace x wall time; 0: none */
	const struct mtb_vessel *vessel;  /* the neck scale the reader expects */
	const struct mtb_log *log;
	/* Every balance reply (rc MTB_OK, or the failure: silent, overload ...). */
	void (*on_balance)(void *user, int64_t t_us, int rc, int64_t mass_mg, bool stable);
	/* Every meniscus frame read or refused, with the frame as PNG; the observer stores it and
	 * writes its SHA-256 into m->image_sha256. */
	void (*on_meniscus)(void *user, int64_t t_us, struct mtb_meniscus_obs *m, const unsigned char *png, size_t len);
	/* A run is complete (bench/can_procedure.h run_done). */
	void (*on_run)(void *user, int run_index, const struct mtb_can_run *run);
	/* The dry vessel weighed before the first fill (bench/can_procedure.h tared); may be NULL. */
	void (*on_tare)(void *user, int64_t dry_mg);
	/* The procedure enters a state (bench/can_procedure.h state_changed); may be NULL. */
	void (*on_state)(void *user, int64_t t_us, int state, int run_index);
	/* Every neck frame the reader was given, with what it read and the meniscus's row in the
	 * image (meniscus_y_px < 0: not found) -- for the live view; may be NULL. */
	void (*on_frame)(void *user, const struct mtb_image *img, const struct mtb_meniscus_obs *m, double meniscus_y_px);
	/* Called during the procedure's waits, at least once a second of bench time (long waits
	 * are split); may be NULL. */
	void (*on_wait)(void *user, int64_t t_us);
	/* Each step of a fill (bench/can_procedure.h fill_step). */
	void (*on_fill_step)(void *user, const struct mtb_can_fill_step *step);
	void *user;
};

/* Builds the HAL from cfg (which must outlive the port), finds the devices and opens the neck
 * camera. MTB_ERR_ARG naming a missing device. */
int mtb_can_io_hal_create(struct mtb_can_io_hal **out, const struct mtb_bench_cfg *cfg,
			  const struct mtb_can_io_hal_opts *opts, struct mtb_errbuf *eb);
void mtb_can_io_hal_destroy(struct mtb_can_io_hal *h);

struct mtb_can_io mtb_can_io_hal_port(struct mtb_can_io_hal *h);

/* Grabs a neck frame that nobody reads (the live view between readings: the water rising).
 * In lockstep it does not move the simulator's clock. */
int mtb_can_io_hal_capture(struct mtb_can_io_hal *h, struct mtb_image **img, struct mtb_errbuf *eb);

/* The valves as the procedure last commanded them (no device is asked). */
void mtb_can_io_hal_valves_commanded(const struct mtb_can_io_hal *h, bool *fill_open, bool *drain_open);

/* Detail of the last device failure ("" if none). */
const char *mtb_can_io_hal_last_error(const struct mtb_can_io_hal *h);

/* Reads back both valves' commands: true when both are closed (after an abort, for the record). */
int mtb_can_io_hal_valves_closed(struct mtb_can_io_hal *h, bool *closed, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

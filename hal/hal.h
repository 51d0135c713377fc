/* meterbench hal: the bench's devices as one object, made from a bench file.
 *
 * mtb_hal_create starts one owner thread per bus (hal/bus.h) and the safety watchdog. Points are
 * addressed as "DEVICE.POINT" (mtb_hal_read, mtb_hal_write) or through the typed per-class
 * device API in hal/devices.h. Sample timestamps come from the injected clock.
 *
 * Safety: the watchdog is a thread of its own, independent of whoever drives the bench. It
 * commands the bench file's safe state (its list of writes, in order, at safety priority) when a
 * bus has been unreachable for bus_deadline_ms, when mtb_hal_abort is called, or when an armed
 * heartbeat (mtb_hal_heartbeat_arm) is not kicked in time. While the safe state is active,
 * ordinary writes are refused (MTB_ERR_STATE) until mtb_hal_safe_reset; writes of the safe
 * state that failed (their bus down) are retried until they succeed. */
#ifndef MTB_HAL_HAL_H
#define MTB_HAL_HAL_H

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "hal/bench_cfg.h"
#include "hal/bus.h"
#include "hal/reg.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_hal;

/* One value of one point. */
struct mtb_sample {
	double value;             /* engineering value: raw x scale (bool: 0 or 1) */
	struct mtb_reg_raw raw;   /* exact raw value (e.g. 64-bit counters) */
	int64_t t_us;             /* reply instant on the injected clock; 0 if never read */
	int rc;                   /* MTB_OK or the error of the last read of its block */
};

#define MTB_HAL_SAFE_MAX 32

struct mtb_hal_safe_report {
	char reason[256];         /* "bus 'plant' unreachable for 3012 ms", "abort: ...", ... */
	int64_t t_trip_us;        /* system monotonic (mtb_bus_mono_us) when tripped */
	int64_t t_done_us;        /* when the last write of the state succeeded; 0 while pending */
	int n_writes, n_ok;
	struct {
		char device[MTB_BENCH_NAME_MAX], point[MTB_BENCH_NAME_MAX];
		double value;
		int rc;               /* MTB_OK once written */
		char detail[160];     /* why it failed */
	} writes[MTB_HAL_SAFE_MAX];
};

struct mtb_hal_opts {
	const struct mtb_clock *clock;   /* sample timestamps; NULL: the system clock */
	const struct mtb_log *log;       /* may be NULL */
	bool no_watchdog;                /* commissioning tools only: no automatic safe state */
	int watchdog_period_ms;          /* default 20 */
	/* Called from the watchdog thread each time the safe state is commanded and each time its
	 * outcome changes (a pending write succeeded). */
	void (*on_safe_state)(void *user, const struct mtb_hal_safe_report *report);
	void *user;
};

/* Builds the HAL for cfg (which must outlive it), starting bus threads and the watchdog.
 * opts may be NULL. Devices are not contacted here: buses connect in the background. */
int mtb_hal_create(struct mtb_hal **out, const struct mtb_bench_cfg *cfg, const struct mtb_hal_opts *opts,
		   struct mtb_errbuf *eb);

/* Stops the watchdog and the buses (no safe state is commanded: call mtb_hal_abort first
 * for that). destroy(NULL) does nothing. */
void mtb_hal_destroy(struct mtb_hal *hal);

const struct mtb_bench_cfg *mtb_hal_config(const struct mtb_hal *hal);
struct mtb_bus *mtb_hal_bus(struct mtb_hal *hal, int index);

/* Resolves "DEVICE.POINT" into indexes; MTB_ERR_NOTFOUND with the names it knows in eb. */
int mtb_hal_point_find(const struct mtb_hal *hal, const char *dev_point, int *device, int *point,
		       struct mtb_errbuf *eb);

/* Reads a point now (its whole block, through the bus queue). */
int mtb_hal_read(struct mtb_hal *hal, const char *dev_point, struct mtb_sample *out, struct mtb_errbuf *eb);
int mtb_hal_read_point(struct mtb_hal *hal, int device, int point, struct mtb_sample *out,
		       struct mtb_errbuf *eb);

/* The cached value of a point from the last read or poll of its block (no bus traffic). */
int mtb_hal_get(struct mtb_hal *hal, int device, int point, struct mtb_sample *out);

/* Writes an engineering value (scaled, range-checked against the point's type). Refused with
 * MTB_ERR_STATE while the safe state is active, MTB_ERR_ARG for a read-only point. */
int mtb_hal_write(struct mtb_hal *hal, const char *dev_point, double value, struct mtb_errbuf *eb);
int mtb_hal_write_point(struct mtb_hal *hal, int device, int point, double value, struct mtb_errbuf *eb);

/* One poll cycle: every block of every Modbus device read once, bus by bus. Returns MTB_OK or
 * the first error (eb), after trying every block. */
int mtb_hal_poll(struct mtb_hal *hal, struct mtb_errbuf *eb);

/* Commands the safe state now and waits until every write of it has been tried once. */
int mtb_hal_abort(struct mtb_hal *hal, const char *reason, struct mtb_hal_safe_report *report);

/* Whether the safe state is active; copies the last report when it is (report may be NULL). */
bool mtb_hal_safe_state(struct mtb_hal *hal, struct mtb_hal_safe_report *report);

/* Leaves the safe state (an operator's decision): ordinary writes are accepted again. */
void mtb_hal_safe_reset(struct mtb_hal *hal);

/* Heartbeat: once armed, the safe state is commanded if mtb_hal_heartbeat is not called for
 * timeout_ms (a hung sequencer). timeout_ms 0 disarms. */
void mtb_hal_heartbeat_arm(struct mtb_hal *hal, int timeout_ms);
void mtb_hal_heartbeat(struct mtb_hal *hal);

#ifdef __cplusplus
}
#endif
#endif

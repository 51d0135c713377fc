/* meterbench hal: one Modbus bus (TCP or RTU) and the one thread that owns it.
 *
 * A libmodbus context is not thread-safe (libmodbus NEWS 3.1.3, #246), so each bus has exactly
 * one owner thread holding the only modbus_t. Every other thread submits requests to the bus's
 * queue with a priority (safety writes before control before polling) and waits for the
 * result. The owner thread also
 *  - enforces the RTU inter-frame silence (t3.5, gap_ms) that libmodbus does not (PR #494);
 *  - after a timeout or a damaged reply waits, flushes and retries (`retries` times), so a late
 *    reply cannot be taken for the answer to the next request;
 *  - runs its own reconnect state machine with exponential back-off after a broken link or
 *    repeated timeouts, instead of libmodbus's link recovery (#735: EPIPE forever after a
 *    gateway reboot);
 *  - polls registered blocks (<= 125 registers or 256 bits) every poll_ms and caches them with
 *    timestamps.
 * Sample timestamps come from the injected clock; health (deadlines, back-off) is measured on
 * the system's monotonic clock so that a stalled or simulated bench clock cannot hide a dead
 * bus from the safety watchdog. */
#ifndef MTB_HAL_BUS_H
#define MTB_HAL_BUS_H

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "hal/bench_cfg.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTB_BUS_MAX_REGS 125   /* one read request (Modbus application protocol 6.3) */
#define MTB_BUS_MAX_BITS 256   /* our own limit for one coil/discrete block */

enum mtb_bus_prio {
	MTB_PRIO_SAFETY = 0,    /* safe-state writes: served first */
	MTB_PRIO_CONTROL = 1,   /* commands and reads of a running test */
	MTB_PRIO_POLL = 2,      /* background and display polling */
};

enum mtb_bus_op {
	MTB_OP_READ = 0,        /* function per req.function: coils, discrete, holding, input */
	MTB_OP_WRITE,           /* coil (fc 5, one bit) or holding (fc 6 for one, fc 16 for more) */
};

struct mtb_bus_req {
	enum mtb_bus_op op;
	enum mtb_reg_function function;
	int unit_id;
	uint16_t address;
	uint16_t count;                   /* registers or bits */
	uint16_t regs[MTB_BUS_MAX_REGS];  /* in for writes, out for reads */
	uint8_t bits[MTB_BUS_MAX_BITS];   /* 0/1 each */
	int timeout_ms;                   /* reply timeout of this device; 0: the bus's */
	int64_t t_us;                     /* out: reply instant on the injected clock */
};

struct mtb_bus_health {
	bool connected;
	int64_t down_since_us;   /* system monotonic us of the first failure since the last
				    success; 0 while the bus answers */
	int64_t last_ok_us;      /* system monotonic us of the last answered request; 0 never */
	uint64_t n_requests, n_ok, n_timeouts, n_retries, n_exceptions, n_link_errors;
	uint64_t n_connects;     /* successful (re)connections */
	int backoff_ms;          /* current reconnect back-off */
	int queued;              /* requests waiting for the owner thread (not the one in progress) */
};

struct mtb_bus;

/* Creates the bus and starts its owner thread (which connects in the background). The config
 * is copied. clock and log must outlive the bus; log may be NULL. */
int mtb_bus_create(struct mtb_bus **out, const struct mtb_bus_cfg *cfg, const struct mtb_clock *clock,
		   const struct mtb_log *log, struct mtb_errbuf *eb);

/* Stops the owner thread (pending requests fail with MTB_ERR_STATE), closes the link. */
void mtb_bus_destroy(struct mtb_bus *bus);

const char *mtb_bus_name(const struct mtb_bus *bus);

/* Queues req and waits for its result: MTB_OK, MTB_ERR_TIMEOUT (no valid reply after the
 * retries), MTB_ERR_IO (link down and not reconnectable now), MTB_ERR_PROTO (the device
 * answered with a Modbus exception; eb names it), MTB_ERR_ARG (bad request), MTB_ERR_STATE
 * (bus shutting down). Safe to call from any thread except the owner's. */
int mtb_bus_transact(struct mtb_bus *bus, struct mtb_bus_req *req, enum mtb_bus_prio prio,
		     struct mtb_errbuf *eb);

/* Registers a block for polling and caching; returns its index (>= 0) or an error. timeout_ms:
 * the device's reply timeout, 0 for the bus's. Thread-safe. */
int mtb_bus_block_add(struct mtb_bus *bus, int unit_id, enum mtb_reg_function fn, uint16_t address,
		      uint16_t count, int timeout_ms);

/* Reads a block now through the queue (at prio) and updates the cache. */
int mtb_bus_block_read(struct mtb_bus *bus, int block, enum mtb_bus_prio prio, struct mtb_errbuf *eb);

/* Copies the cached block: registers or bits (whichever the function has), the reply instant on
 * the injected clock (t_us, 0 if never read) and the result of the last read (rc). */
int mtb_bus_block_get(struct mtb_bus *bus, int block, uint16_t *regs, uint8_t *bits, int64_t *t_us, int *rc);

void mtb_bus_health_get(struct mtb_bus *bus, struct mtb_bus_health *out);

/* Microseconds of the system monotonic clock, the time base of mtb_bus_health. */
int64_t mtb_bus_mono_us(void);

#ifdef __cplusplus
}
#endif
#endif

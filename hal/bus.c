/* One Modbus bus and its owner thread; see bus.h for the why. */
#include "hal/bus.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BLOCKS 64
#define BACKOFF_MIN_MS 100
/* Transactions failing in a row (each after its retries) before the link is declared down. */
#define FAILS_TO_DROP 2

static const char TAG[] = "bus";

struct pending {
	struct mtb_bus_req *req;
	enum mtb_bus_prio prio;
	uint64_t seq;
	int rc;
	bool done;
	struct mtb_errbuf eb;
	struct pending *next;
};

struct block {
	int unit_id;
	enum mtb_reg_function fn;
	uint16_t address, count;
	int timeout_ms;
	uint16_t regs[MTB_BUS_MAX_REGS];
	uint8_t bits[MTB_BUS_MAX_BITS];
	int64_t t_us;
	int rc;
};

struct mtb_bus {
	struct mtb_bus_cfg cfg;
	const struct mtb_clock *clock;
	const struct mtb_log *log;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;     /* owner thread: work, stop */
	pthread_cond_t done;     /* submitters: a request finished */
	bool stop;
	struct pending *queue;
	uint64_t seq;
	struct block blocks[MAX_BLOCKS];
	int n_blocks;
	struct mtb_bus_health health;   /* under mu */

	/* Owned by the owner thread only. */
	modbus_t *ctx;
	int64_t next_connect_us;
	int64_t last_io_us;      /* end of the last exchange, for the RTU gap */
	int timeout_ms;          /* response timeout currently set on ctx */
	int fails_in_row;
	int64_t next_poll_us;
	int poll_cursor;
};

int64_t mtb_bus_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(int64_t us)
{
	if (us <= 0)
		return;
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* libmodbus's own modbus_strerror calls strerror, which is not thread-safe (#468). */
static const char *exception_name(int code)
{
	static const char *const names[] = {
		"?", "illegal function", "illegal data address", "illegal data value",
		"server device failure", "acknowledge", "server device busy", "negative acknowledge",
		"memory parity error", "?", "gateway path unavailable", "gateway target failed to respond",
	};
	return code > 0 && code < (int)(sizeof names / sizeof names[0]) ? names[code] : "unknown";
}

static const char *errno_text(int e, char *buf, size_t len)
{
	switch (e) {
	case ETIMEDOUT: return "no reply (timeout)";
	case EMBBADCRC: return "bad CRC";
	case EMBBADDATA: return "invalid reply data";
	case EMBBADEXC: return "invalid exception code";
	case EMBMDATA: return "too many data";
	case EMBBADSLAVE: return "reply from another unit";
	case ECONNRESET: return "connection reset";
	case ECONNREFUSED: return "connection refused";
	case EPIPE: return "broken pipe";
	default: break;
	}
	if (e > MODBUS_ENOBASE && e <= EMBXGTAR)
		return exception_name(e - MODBUS_ENOBASE);
	/* strerror_r (the XSI variant here) is thread-safe, strerror is not. */
	if (strerror_r(e, buf, len) != 0)
		snprintf(buf, len, "error %d", e);
	return buf;
}

static bool is_exception(int e) { return e > MODBUS_ENOBASE && e <= EMBXGTAR; }

static bool is_link_error(int e)
{
	switch (e) {
	case ECONNRESET: case ECONNREFUSED: case ECONNABORTED: case EPIPE: case ENOTCONN:
	case EBADF: case EIO: case ENXIO: case ENODEV: case EHOSTUNREACH: case ENETUNREACH:
	case ENOENT:
		return true;
	default:
		return false;
	}
}

static const char *fn_name(enum mtb_reg_function fn) { return mtb_reg_function_name(fn); }

/* ---- link management (owner thread) ---- */

static void mark_failure(struct mtb_bus *bus)
{
	pthread_mutex_lock(&bus->mu);
	if (bus->health.down_since_us == 0)
		bus->health.down_since_us = mtb_bus_mono_us();
	pthread_mutex_unlock(&bus->mu);
}

static void mark_answered(struct mtb_bus *bus)
{
	pthread_mutex_lock(&bus->mu);
	bus->health.down_since_us = 0;
	bus->health.last_ok_us = mtb_bus_mono_us();
	pthread_mutex_unlock(&bus->mu);
	bus->fails_in_row = 0;
}

static void link_drop(struct mtb_bus *bus, const char *why)
{
	if (!bus->ctx)
		return;
	mtb_log_msg(bus->log, MTB_LOG_WARN, TAG, "%s: link down (%s); reconnecting with back-off", bus->cfg.name, why);
	modbus_close(bus->ctx);
	modbus_free(bus->ctx);
	bus->ctx = NULL;
	pthread_mutex_lock(&bus->mu);
	bus->health.connected = false;
	pthread_mutex_unlock(&bus->mu);
	bus->next_connect_us = 0;   /* first reconnect attempt right away, back-off after that */
}

static int link_open(struct mtb_bus *bus, struct mtb_errbuf *eb)
{
	char port[16], ebuf[128];
	const struct mtb_bus_cfg *c = &bus->cfg;
	modbus_t *ctx;
	if (c->kind == MTB_BUS_TCP) {
		snprintf(port, sizeof port, "%d", c->port);
		ctx = modbus_new_tcp_pi(c->host, port);
	} else {
		ctx = modbus_new_rtu(c->device, c->baud, c->parity, c->data_bits, c->stop_bits);
	}
	if (!ctx)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "%s: cannot create a Modbus context", c->name);
	modbus_set_response_timeout(ctx, (uint32_t)(c->response_timeout_ms / 1000),
				    (uint32_t)(c->response_timeout_ms % 1000) * 1000);
	modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE);   /* our state machine does it */
	if (modbus_connect(ctx) != 0) {
		int e = errno;
		modbus_free(ctx);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot connect to %s: %s", c->name, c->uri,
				      errno_text(e, ebuf, sizeof ebuf));
	}
	if (c->kind == MTB_BUS_RTU && c->rs485 && modbus_rtu_set_serial_mode(ctx, MODBUS_RTU_RS485) != 0) {
		/* Optional: pseudo-terminals and many USB adapters refuse the ioctl (ENOTTY). */
		int e = errno;
		mtb_log_msg(bus->log, MTB_LOG_INFO, TAG, "%s: RS-485 mode not available (%s); using the line as it is",
			    c->name, errno_text(e, ebuf, sizeof ebuf));
	}
	bus->ctx = ctx;
	bus->last_io_us = 0;
	bus->timeout_ms = c->response_timeout_ms;
	return MTB_OK;
}

/* Connects if needed. Outside the back-off window, or when forced, tries once now. */
static int link_ensure(struct mtb_bus *bus, bool force, struct mtb_errbuf *eb)
{
	if (bus->ctx)
		return MTB_OK;
	int64_t now = mtb_bus_mono_us();
	if (!force && now < bus->next_connect_us)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: bus offline (next reconnect in %lld ms)", bus->cfg.name,
				      (long long)((bus->next_connect_us - now + 999) / 1000));
	int rc = link_open(bus, eb);
	pthread_mutex_lock(&bus->mu);
	if (rc == MTB_OK) {
		bus->health.connected = true;
		bus->health.n_connects++;
		bus->health.backoff_ms = BACKOFF_MIN_MS;
	} else {
		bus->next_connect_us = mtb_bus_mono_us() + (int64_t)bus->health.backoff_ms * 1000;
		bus->health.backoff_ms *= 2;
		if (bus->health.backoff_ms > bus->cfg.backoff_max_ms)
			bus->health.backoff_ms = bus->cfg.backoff_max_ms;
	}
	pthread_mutex_unlock(&bus->mu);
	if (rc == MTB_OK)
		mtb_log_msg(bus->log, MTB_LOG_INFO, TAG, "%s: connected to %s", bus->cfg.name, bus->cfg.uri);
	else
		mark_failure(bus);
	return rc;
}

/* ---- one exchange (owner thread) ---- */

static int do_op(modbus_t *ctx, struct mtb_bus_req *r)
{
	int n;
	if (r->op == MTB_OP_READ) {
		switch (r->function) {
		case MTB_FN_COIL: n = modbus_read_bits(ctx, r->address, r->count, r->bits); break;
		case MTB_FN_DISCRETE: n = modbus_read_input_bits(ctx, r->address, r->count, r->bits); break;
		case MTB_FN_HOLDING: n = modbus_read_registers(ctx, r->address, r->count, r->regs); break;
		case MTB_FN_INPUT: n = modbus_read_input_registers(ctx, r->address, r->count, r->regs); break;
		default: errno = EINVAL; return -1;
		}
		if (n >= 0 && n != r->count) {
			errno = EMBBADDATA;
			return -1;
		}
		return n < 0 ? -1 : 0;
	}
	if (r->function == MTB_FN_COIL)
		n = r->count == 1 ? modbus_write_bit(ctx, r->address, r->bits[0] != 0)
				  : modbus_write_bits(ctx, r->address, r->count, r->bits);
	else
		n = r->count == 1 ? modbus_write_register(ctx, r->address, r->regs[0])
				  : modbus_write_registers(ctx, r->address, r->count, r->regs);
	return n < 0 ? -1 : 0;
}

static int check_req(const struct mtb_bus_cfg *c, const struct mtb_bus_req *r, struct mtb_errbuf *eb)
{
	bool bits = r->function == MTB_FN_COIL || r->function == MTB_FN_DISCRETE;
	unsigned max = bits ? MTB_BUS_MAX_BITS : MTB_BUS_MAX_REGS;
	if ((unsigned)r->function > MTB_FN_INPUT || r->count == 0 || r->count > max ||
	    (unsigned)r->address + r->count > 65536u)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: bad request (%s %u x%u)", c->name, fn_name(r->function),
				      r->address, r->count);
	if (r->op == MTB_OP_WRITE && (r->function == MTB_FN_DISCRETE || r->function == MTB_FN_INPUT))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: %s points cannot be written", c->name, fn_name(r->function));
	int lo = c->kind == MTB_BUS_RTU ? 1 : 0, hi = c->kind == MTB_BUS_RTU ? 247 : 255;
	if (r->unit_id < lo || r->unit_id > hi)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: unit id %d outside %d-%d", c->name, r->unit_id, lo, hi);
	return MTB_OK;
}

static int execute(struct mtb_bus *bus, struct mtb_bus_req *r, enum mtb_bus_prio prio, struct mtb_errbuf *eb)
{
	const struct mtb_bus_cfg *c = &bus->cfg;
	int rc = check_req(c, r, eb);
	if (rc != MTB_OK)
		return rc;
	pthread_mutex_lock(&bus->mu);
	bus->health.n_requests++;
	pthread_mutex_unlock(&bus->mu);
	char ebuf[128];
	int timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : c->response_timeout_ms;
	/* After a timeout: wait for a late reply to arrive, then flush it (bench notes 3.4). */
	int64_t settle_us = ((int64_t)c->gap_ms + timeout_ms / 2) * 1000;
	bool relink = prio == MTB_PRIO_SAFETY;
	rc = MTB_ERR_IO;
	for (int attempt = 0; attempt <= c->retries; attempt++) {
		if (attempt > 0) {
			pthread_mutex_lock(&bus->mu);
			bus->health.n_retries++;
			pthread_mutex_unlock(&bus->mu);
		}
		int lrc = link_ensure(bus, relink, eb);
		relink = false;
		if (lrc != MTB_OK) {
			rc = lrc;
			break;   /* offline: do not hold the queue through every retry */
		}
		if (c->kind == MTB_BUS_RTU && bus->last_io_us) {
			int64_t wait = bus->last_io_us + (int64_t)c->gap_ms * 1000 - mtb_bus_mono_us();
			sleep_us(wait);
		}
		modbus_set_slave(bus->ctx, r->unit_id);
		if (bus->timeout_ms != timeout_ms) {   /* per-device timeouts on a shared bus */
			modbus_set_response_timeout(bus->ctx, (uint32_t)(timeout_ms / 1000), (uint32_t)(timeout_ms % 1000) * 1000);
			bus->timeout_ms = timeout_ms;
		}
		int n = do_op(bus->ctx, r);
		int e = errno;
		bus->last_io_us = mtb_bus_mono_us();
		if (n == 0) {
			r->t_us = mtb_clock_now_us(bus->clock);
			pthread_mutex_lock(&bus->mu);
			bus->health.n_ok++;
			pthread_mutex_unlock(&bus->mu);
			mark_answered(bus);
			return MTB_OK;
		}
		if (is_exception(e)) {
			pthread_mutex_lock(&bus->mu);
			bus->health.n_exceptions++;
			pthread_mutex_unlock(&bus->mu);
			mark_answered(bus);   /* the device is there, it said no */
			rc = mtb_errbuf_set(eb, MTB_ERR_PROTO, "%s: unit %d: %s %u: Modbus exception %d (%s)", c->name,
					    r->unit_id, fn_name(r->function), r->address, e - MODBUS_ENOBASE,
					    exception_name(e - MODBUS_ENOBASE));
			if (e == EMBXSBUSY && attempt < c->retries) {
				sleep_us(settle_us);
				continue;
			}
			return rc;
		}
		if (is_link_error(e)) {
			pthread_mutex_lock(&bus->mu);
			bus->health.n_link_errors++;
			pthread_mutex_unlock(&bus->mu);
			rc = mtb_errbuf_set(eb, MTB_ERR_IO, "%s: unit %d: %s", c->name, r->unit_id, errno_text(e, ebuf, sizeof ebuf));
			link_drop(bus, errno_text(e, ebuf, sizeof ebuf));
			relink = true;   /* one immediate reconnect, then the back-off rules */
			continue;
		}
		pthread_mutex_lock(&bus->mu);
		bus->health.n_timeouts++;
		pthread_mutex_unlock(&bus->mu);
		rc = mtb_errbuf_set(eb, MTB_ERR_TIMEOUT, "%s: unit %d: %s %u: %s after %d attempt(s)", c->name,
				    r->unit_id, fn_name(r->function), r->address, errno_text(e, ebuf, sizeof ebuf),
				    attempt + 1);
		sleep_us(settle_us);
		modbus_flush(bus->ctx);
	}
	mark_failure(bus);
	if (++bus->fails_in_row >= FAILS_TO_DROP && bus->ctx) {
		link_drop(bus, "no valid reply");
		bus->next_connect_us = mtb_bus_mono_us() + (int64_t)BACKOFF_MIN_MS * 1000;
	}
	return rc;
}

/* ---- the owner thread ---- */

static struct pending *queue_pop(struct mtb_bus *bus)
{
	struct pending **best = NULL;
	for (struct pending **p = &bus->queue; *p; p = &(*p)->next)
		if (!best || (*p)->prio < (*best)->prio || ((*p)->prio == (*best)->prio && (*p)->seq < (*best)->seq))
			best = p;
	if (!best)
		return NULL;
	struct pending *r = *best;
	*best = r->next;
	return r;
}

static void store_block(struct mtb_bus *bus, int i, const struct mtb_bus_req *r, int rc)
{
	struct block *b = &bus->blocks[i];
	pthread_mutex_lock(&bus->mu);
	b->rc = rc;
	if (rc == MTB_OK) {
		memcpy(b->regs, r->regs, sizeof b->regs);
		memcpy(b->bits, r->bits, sizeof b->bits);
		b->t_us = r->t_us;
	}
	pthread_mutex_unlock(&bus->mu);
}

static void make_block_req(const struct block *b, struct mtb_bus_req *r)
{
	memset(r, 0, sizeof *r);
	r->op = MTB_OP_READ;
	r->function = b->fn;
	r->unit_id = b->unit_id;
	r->address = b->address;
	r->count = b->count;
	r->timeout_ms = b->timeout_ms;
}

static void poll_one(struct mtb_bus *bus)
{
	pthread_mutex_lock(&bus->mu);
	int n = bus->n_blocks;
	int i = bus->poll_cursor;
	struct mtb_bus_req r;
	if (i < n)
		make_block_req(&bus->blocks[i], &r);
	pthread_mutex_unlock(&bus->mu);
	if (i >= n)
		return;
	struct mtb_errbuf eb;
	int rc = execute(bus, &r, MTB_PRIO_POLL, &eb);
	store_block(bus, i, &r, rc);
	bus->poll_cursor++;
}

static void *owner_main(void *arg)
{
	struct mtb_bus *bus = arg;
	pthread_mutex_lock(&bus->mu);
	while (!bus->stop) {
		struct pending *p = queue_pop(bus);
		if (p) {
			pthread_mutex_unlock(&bus->mu);
			struct mtb_errbuf eb = { { 0 } };
			int rc = execute(bus, p->req, p->prio, &eb);
			pthread_mutex_lock(&bus->mu);
			p->rc = rc;
			p->eb = eb;
			p->done = true;
			pthread_cond_broadcast(&bus->done);
			continue;
		}
		int64_t now = mtb_bus_mono_us();
		int64_t wake = now + 1000000;
		if (bus->cfg.poll_ms > 0 && bus->n_blocks > 0) {
			if (bus->poll_cursor < bus->n_blocks) {
				pthread_mutex_unlock(&bus->mu);
				poll_one(bus);   /* one block, then look at the queue again */
				pthread_mutex_lock(&bus->mu);
				continue;
			}
			if (now >= bus->next_poll_us) {
				bus->poll_cursor = 0;
				bus->next_poll_us = now + (int64_t)bus->cfg.poll_ms * 1000;
				continue;
			}
			wake = bus->next_poll_us;
		}
		if (!bus->ctx) {
			/* Reconnect in the background, so the bus comes back without traffic. */
			if (now >= bus->next_connect_us) {
				pthread_mutex_unlock(&bus->mu);
				struct mtb_errbuf eb;
				link_ensure(bus, false, &eb);
				pthread_mutex_lock(&bus->mu);
				continue;
			}
			if (bus->next_connect_us < wake)
				wake = bus->next_connect_us;
		}
		struct timespec ts = { .tv_sec = wake / 1000000, .tv_nsec = (long)(wake % 1000000) * 1000 };
		pthread_cond_timedwait(&bus->wake, &bus->mu, &ts);
	}
	/* Fail whatever is still queued. */
	for (struct pending *p; (p = queue_pop(bus));) {
		p->rc = mtb_errbuf_set(&p->eb, MTB_ERR_STATE, "%s: bus is shutting down", bus->cfg.name);
		p->done = true;
	}
	pthread_cond_broadcast(&bus->done);
	pthread_mutex_unlock(&bus->mu);
	if (bus->ctx) {
		modbus_close(bus->ctx);
		modbus_free(bus->ctx);
		bus->ctx = NULL;
	}
	return NULL;
}

/* ---- public API ---- */

int mtb_bus_create(struct mtb_bus **out, const struct mtb_bus_cfg *cfg, const struct mtb_clock *clock,
		   const struct mtb_log *log, struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!cfg || !clock)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "bus: missing configuration or clock");
	struct mtb_bus *bus = calloc(1, sizeof *bus);
	if (!bus)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "%s: out of memory", cfg->name);
	bus->cfg = *cfg;
	if (bus->cfg.backoff_max_ms < BACKOFF_MIN_MS)
		bus->cfg.backoff_max_ms = BACKOFF_MIN_MS;
	bus->clock = clock;
	bus->log = log;
	bus->health.backoff_ms = BACKOFF_MIN_MS;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&bus->mu, NULL);
	pthread_cond_init(&bus->wake, &ca);
	pthread_cond_init(&bus->done, NULL);
	pthread_condattr_destroy(&ca);
	int e = pthread_create(&bus->thread, NULL, owner_main, bus);
	if (e != 0) {
		pthread_mutex_destroy(&bus->mu);
		pthread_cond_destroy(&bus->wake);
		pthread_cond_destroy(&bus->done);
		free(bus);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "%s: cannot start the bus thread", cfg->name);
	}
	*out = bus;
	return MTB_OK;
}

void mtb_bus_destroy(struct mtb_bus *bus)
{
	if (!bus)
		return;
	pthread_mutex_lock(&bus->mu);
	bus->stop = true;
	pthread_cond_signal(&bus->wake);
	pthread_mutex_unlock(&bus->mu);
	pthread_join(bus->thread, NULL);
	pthread_mutex_destroy(&bus->mu);
	pthread_cond_destroy(&bus->wake);
	pthread_cond_destroy(&bus->done);
	free(bus);
}

const char *mtb_bus_name(const struct mtb_bus *bus) { return bus->cfg.name; }

int mtb_bus_transact(struct mtb_bus *bus, struct mtb_bus_req *req, enum mtb_bus_prio prio,
		     struct mtb_errbuf *eb)
{
	if (!bus || !req)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "bus: no request");
	if (pthread_equal(pthread_self(), bus->thread))
		return mtb_errbuf_set(eb, MTB_ERR_STATE, "%s: request from the bus's own thread", bus->cfg.name);
	struct pending p = { .req = req, .prio = prio };
	pthread_mutex_lock(&bus->mu);
	if (bus->stop) {
		pthread_mutex_unlock(&bus->mu);
		return mtb_errbuf_set(eb, MTB_ERR_STATE, "%s: bus is shutting down", bus->cfg.name);
	}
	p.seq = ++bus->seq;
	p.next = bus->queue;
	bus->queue = &p;
	pthread_cond_signal(&bus->wake);
	while (!p.done)
		pthread_cond_wait(&bus->done, &bus->mu);
	pthread_mutex_unlock(&bus->mu);
	if (p.rc != MTB_OK && eb)
		*eb = p.eb;
	return p.rc;
}

int mtb_bus_block_add(struct mtb_bus *bus, int unit_id, enum mtb_reg_function fn, uint16_t address,
		      uint16_t count, int timeout_ms)
{
	bool bits = fn == MTB_FN_COIL || fn == MTB_FN_DISCRETE;
	if (count == 0 || count > (bits ? MTB_BUS_MAX_BITS : MTB_BUS_MAX_REGS) || (unsigned)address + count > 65536u)
		return MTB_ERR_ARG;
	pthread_mutex_lock(&bus->mu);
	int i = bus->n_blocks;
	if (i >= MAX_BLOCKS) {
		pthread_mutex_unlock(&bus->mu);
		return MTB_ERR_RANGE;
	}
	struct block *b = &bus->blocks[i];
	memset(b, 0, sizeof *b);
	b->unit_id = unit_id;
	b->fn = fn;
	b->address = address;
	b->count = count;
	b->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	b->rc = MTB_ERR_STATE;   /* never read */
	bus->n_blocks++;
	pthread_cond_signal(&bus->wake);
	pthread_mutex_unlock(&bus->mu);
	return i;
}

int mtb_bus_block_read(struct mtb_bus *bus, int block, enum mtb_bus_prio prio, struct mtb_errbuf *eb)
{
	struct mtb_bus_req r;
	pthread_mutex_lock(&bus->mu);
	if (block < 0 || block >= bus->n_blocks) {
		pthread_mutex_unlock(&bus->mu);
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: no block %d", bus->cfg.name, block);
	}
	make_block_req(&bus->blocks[block], &r);
	pthread_mutex_unlock(&bus->mu);
	int rc = mtb_bus_transact(bus, &r, prio, eb);
	if (rc != MTB_ERR_STATE && rc != MTB_ERR_ARG)
		store_block(bus, block, &r, rc);
	return rc;
}

int mtb_bus_block_get(struct mtb_bus *bus, int block, uint16_t *regs, uint8_t *bits, int64_t *t_us, int *rc)
{
	pthread_mutex_lock(&bus->mu);
	if (block < 0 || block >= bus->n_blocks) {
		pthread_mutex_unlock(&bus->mu);
		return MTB_ERR_ARG;
	}
	const struct block *b = &bus->blocks[block];
	if (regs)
		memcpy(regs, b->regs, sizeof b->regs);
	if (bits)
		memcpy(bits, b->bits, sizeof b->bits);
	if (t_us)
		*t_us = b->t_us;
	if (rc)
		*rc = b->rc;
	pthread_mutex_unlock(&bus->mu);
	return MTB_OK;
}

void mtb_bus_health_get(struct mtb_bus *bus, struct mtb_bus_health *out)
{
	pthread_mutex_lock(&bus->mu);
	*out = bus->health;
	out->queued = 0;
	for (const struct pending *p = bus->queue; p; p = p->next)
		out->queued++;
	pthread_mutex_unlock(&bus->mu);
}

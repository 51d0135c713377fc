/* The HAL object: buses, devices and their point blocks, the safety watchdog. See hal.h. */
#include "hal/hal_priv.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char TAG[] = "hal";

struct mtb_hal {
	const struct mtb_bench_cfg *cfg;
	const struct mtb_clock *clock;
	const struct mtb_log *log;
	struct mtb_hal_opts opts;
	struct mtb_bus *buses[MTB_BENCH_MAX_BUSES];
	struct mtb_device devices[MTB_BENCH_MAX_DEVICES];

	pthread_t watchdog;
	bool watchdog_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* CLOCK_MONOTONIC */
	bool stop;
	bool safe_active;
	bool safe_pending;         /* some write of the safe state has not succeeded yet */
	int64_t next_retry_us;
	struct mtb_hal_safe_report report;
	bool abort_req;
	char abort_reason[200];
	uint64_t abort_seq, abort_done;
	int heartbeat_ms;
	int64_t heartbeat_last_us;
};

const struct mtb_clock *mtb_hal_clock(const struct mtb_hal *hal) { return hal->clock; }
const struct mtb_log *mtb_hal_log(const struct mtb_hal *hal) { return hal->log; }
const struct mtb_bench_cfg *mtb_hal_config(const struct mtb_hal *hal) { return hal->cfg; }

struct mtb_bus *mtb_hal_bus(struct mtb_hal *hal, int index)
{
	return index >= 0 && index < hal->cfg->n_buses ? hal->buses[index] : NULL;
}

struct mtb_device *mtb_hal_device(struct mtb_hal *hal, const char *name)
{
	int i = mtb_bench_cfg_device(hal->cfg, name);
	return i < 0 ? NULL : &hal->devices[i];
}

const struct mtb_point_cfg *mtb_dev_point(const struct mtb_device *d, const char *name)
{
	int i = mtb_bench_cfg_point(d->cfg, name);
	return i < 0 ? NULL : &d->cfg->points[i];
}

/* ---- blocks: contiguous points of one function, read in one request ---- */

static int point_span(const struct mtb_point_cfg *p)
{
	return p->type == MTB_REG_BOOL ? 1 : mtb_reg_words(p->type);
}

static int build_blocks(struct mtb_device *d, struct mtb_errbuf *eb)
{
	const struct mtb_device_cfg *c = d->cfg;
	bool done[MTB_BENCH_MAX_POINTS] = { false };
	for (;;) {
		/* The lowest address not yet placed starts a block; later points of the same
		 * function join it while the block stays within one request. */
		int first = -1;
		for (int i = 0; i < c->n_points; i++)
			if (!done[i] && (first < 0 || c->points[i].function < c->points[first].function ||
					 (c->points[i].function == c->points[first].function &&
					  c->points[i].address < c->points[first].address)))
				first = i;
		if (first < 0)
			return MTB_OK;
		enum mtb_reg_function fn = c->points[first].function;
		int max = (fn == MTB_FN_COIL || fn == MTB_FN_DISCRETE) ? MTB_BUS_MAX_BITS : MTB_BUS_MAX_REGS;
		int start = c->points[first].address, end = start + point_span(&c->points[first]);
		bool member[MTB_BENCH_MAX_POINTS] = { false };
		member[first] = true;
		for (int i = 0; i < c->n_points; i++) {
			const struct mtb_point_cfg *p = &c->points[i];
			if (done[i] || i == first || p->function != fn)
				continue;
			int pe = p->address + point_span(p);
			int ne = pe > end ? pe : end;
			if (ne - start <= max) {
				end = ne;
				member[i] = true;
			}
		}
		int blk = mtb_bus_block_add(d->bus, c->unit_id, fn, (uint16_t)start, (uint16_t)(end - start),
					    c->response_timeout_ms);
		if (blk < 0)
			return mtb_errbuf_set(eb, blk, "device '%s': too many register blocks on its bus", c->name);
		for (int i = 0; i < c->n_points; i++)
			if (member[i]) {
				done[i] = true;
				d->block[i] = blk;
				d->offset[i] = c->points[i].address - start;
			}
	}
}

static void decode(const struct mtb_point_cfg *p, const uint16_t *regs, const uint8_t *bits, int offset,
		   struct mtb_sample *s)
{
	if (p->type == MTB_REG_BOOL) {
		s->raw.type = MTB_REG_BOOL;
		s->raw.v.i = bits[offset] != 0;
		s->value = (double)s->raw.v.i;
		return;
	}
	if (mtb_reg_decode(p->type, p->order, regs + offset, &s->raw) != MTB_OK) {
		s->rc = MTB_ERR_ARG;
		s->value = NAN;
		return;
	}
	s->value = mtb_reg_to_double(&s->raw, p->scale);
}

int mtb_hal_get(struct mtb_hal *hal, int device, int point, struct mtb_sample *out)
{
	if (device < 0 || device >= hal->cfg->n_devices)
		return MTB_ERR_ARG;
	struct mtb_device *d = &hal->devices[device];
	if (!d->bus || point < 0 || point >= d->cfg->n_points)
		return MTB_ERR_ARG;
	uint16_t regs[MTB_BUS_MAX_REGS];
	uint8_t bits[MTB_BUS_MAX_BITS];
	memset(out, 0, sizeof *out);
	mtb_bus_block_get(d->bus, d->block[point], regs, bits, &out->t_us, &out->rc);
	if (out->t_us == 0) {
		out->value = NAN;
		return out->rc;
	}
	int rc = out->rc;
	out->rc = MTB_OK;
	decode(&d->cfg->points[point], regs, bits, d->offset[point], out);
	if (out->rc == MTB_OK)
		out->rc = rc;
	return out->rc;
}

int mtb_dev_read(struct mtb_device *d, const char *const *names, int n, struct mtb_sample *out,
		 bool *present, struct mtb_errbuf *eb)
{
	int idx[MTB_BENCH_MAX_POINTS];
	if (n > MTB_BENCH_MAX_POINTS || !d->bus)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: bad point read", d->cfg->name);
	for (int i = 0; i < n; i++) {
		idx[i] = mtb_bench_cfg_point(d->cfg, names[i]);
		if (present)
			present[i] = idx[i] >= 0;
		else if (idx[i] < 0)
			return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "%s: no point '%s'", d->cfg->name, names[i]);
	}
	/* Each distinct block once. */
	int read_blocks[MTB_BENCH_MAX_POINTS], n_read = 0;
	for (int i = 0; i < n; i++) {
		if (idx[i] < 0)
			continue;
		int b = d->block[idx[i]];
		bool seen = false;
		for (int k = 0; k < n_read; k++)
			seen |= read_blocks[k] == b;
		if (seen)
			continue;
		read_blocks[n_read++] = b;
		int rc = mtb_bus_block_read(d->bus, b, MTB_PRIO_CONTROL, eb);
		if (rc != MTB_OK)
			return mtb_errbuf_prefix(eb, rc, "%s", d->cfg->name);
	}
	for (int i = 0; i < n; i++) {
		if (idx[i] < 0) {
			memset(&out[i], 0, sizeof out[i]);
			out[i].value = NAN;
			out[i].rc = MTB_ERR_NOTFOUND;
			continue;
		}
		mtb_hal_get(d->hal, d->index, idx[i], &out[i]);
		if (out[i].rc != MTB_OK)
			return mtb_errbuf_set(eb, out[i].rc, "%s.%s: cannot decode", d->cfg->name, names[i]);
	}
	return MTB_OK;
}

int mtb_hal_point_find(const struct mtb_hal *hal, const char *dev_point, int *device, int *point,
		       struct mtb_errbuf *eb)
{
	const char *dot = strchr(dev_point, '.');
	char name[MTB_BENCH_NAME_MAX];
	size_t n = dot ? (size_t)(dot - dev_point) : strlen(dev_point);
	if (!dot || n == 0 || n >= sizeof name)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': expected DEVICE.POINT", dev_point);
	memcpy(name, dev_point, n);
	name[n] = '\0';
	int d = mtb_bench_cfg_device(hal->cfg, name);
	if (d < 0) {
		char known[300] = "";
		for (int i = 0; i < hal->cfg->n_devices; i++)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
				 hal->cfg->devices[i].name);
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "no device '%s' in %s (devices: %s)", name,
				      hal->cfg->origin, known);
	}
	const struct mtb_device_cfg *dc = &hal->cfg->devices[d];
	int p = mtb_bench_cfg_point(dc, dot + 1);
	if (p < 0) {
		char known[300] = "";
		for (int i = 0; i < dc->n_points; i++)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
				 dc->points[i].name);
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "device '%s' has no point '%s' (points: %s)", name,
				      dot + 1, dc->n_points ? known : "none");
	}
	*device = d;
	*point = p;
	return MTB_OK;
}

int mtb_hal_read_point(struct mtb_hal *hal, int device, int point, struct mtb_sample *out,
		       struct mtb_errbuf *eb)
{
	if (device < 0 || device >= hal->cfg->n_devices || point < 0 ||
	    point >= hal->cfg->devices[device].n_points)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "no such point");
	struct mtb_device *d = &hal->devices[device];
	const char *name = d->cfg->points[point].name;
	return mtb_dev_read(d, &name, 1, out, NULL, eb);
}

int mtb_hal_read(struct mtb_hal *hal, const char *dev_point, struct mtb_sample *out, struct mtb_errbuf *eb)
{
	int d, p;
	int rc = mtb_hal_point_find(hal, dev_point, &d, &p, eb);
	return rc != MTB_OK ? rc : mtb_hal_read_point(hal, d, p, out, eb);
}

static int write_point(struct mtb_hal *hal, int device, int point, double value, enum mtb_bus_prio prio,
		       struct mtb_errbuf *eb)
{
	struct mtb_device *d = &hal->devices[device];
	const struct mtb_point_cfg *p = &d->cfg->points[point];
	if (!d->bus)
		return mtb_errbuf_set(eb, MTB_ERR_NOTSUP, "%s: not a Modbus device", d->cfg->name);
	if (!p->writable)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s.%s is read-only (access: r)", d->cfg->name, p->name);
	struct mtb_reg_raw raw;
	int rc = mtb_reg_from_double(p->type, value, p->scale, &raw);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s.%s: %g does not fit %s with scale %g", d->cfg->name, p->name, value,
				      mtb_reg_type_name(p->type), p->scale);
	struct mtb_bus_req r;
	memset(&r, 0, sizeof r);
	r.op = MTB_OP_WRITE;
	r.function = p->function;
	r.unit_id = d->cfg->unit_id;
	r.timeout_ms = d->cfg->response_timeout_ms;
	r.address = p->address;
	if (p->type == MTB_REG_BOOL) {
		r.count = 1;
		r.bits[0] = raw.v.i != 0;
	} else {
		r.count = (uint16_t)mtb_reg_words(p->type);
		mtb_reg_encode(p->order, &raw, r.regs);
	}
	rc = mtb_bus_transact(d->bus, &r, prio, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s.%s", d->cfg->name, p->name);
	mtb_log_msg(hal->log, MTB_LOG_DEBUG, TAG, "%s.%s <- %g", d->cfg->name, p->name, value);
	return MTB_OK;
}

int mtb_hal_write_point(struct mtb_hal *hal, int device, int point, double value, struct mtb_errbuf *eb)
{
	if (device < 0 || device >= hal->cfg->n_devices || point < 0 ||
	    point >= hal->cfg->devices[device].n_points)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "no such point");
	pthread_mutex_lock(&hal->mu);
	bool safe = hal->safe_active;
	char why[256];
	snprintf(why, sizeof why, "%s", hal->report.reason);
	pthread_mutex_unlock(&hal->mu);
	if (safe)
		return mtb_errbuf_set(eb, MTB_ERR_STATE, "%s.%s: refused: the safe state is active (%s)",
				      hal->cfg->devices[device].name, hal->cfg->devices[device].points[point].name, why);
	return write_point(hal, device, point, value, MTB_PRIO_CONTROL, eb);
}

int mtb_hal_write(struct mtb_hal *hal, const char *dev_point, double value, struct mtb_errbuf *eb)
{
	int d, p;
	int rc = mtb_hal_point_find(hal, dev_point, &d, &p, eb);
	return rc != MTB_OK ? rc : mtb_hal_write_point(hal, d, p, value, eb);
}

int mtb_dev_write(struct mtb_device *d, const char *point, double value, struct mtb_errbuf *eb)
{
	int p = mtb_bench_cfg_point(d->cfg, point);
	if (p < 0)
		return mtb_errbuf_set(eb, MTB_ERR_NOTSUP, "%s: the map has no point '%s'", d->cfg->name, point);
	return mtb_hal_write_point(d->hal, d->index, p, value, eb);
}

int mtb_dev_write_unguarded(struct mtb_device *d, const char *point, double value, struct mtb_errbuf *eb)
{
	int p = mtb_bench_cfg_point(d->cfg, point);
	if (p < 0)
		return mtb_errbuf_set(eb, MTB_ERR_NOTSUP, "%s: the map has no point '%s'", d->cfg->name, point);
	return write_point(d->hal, d->index, p, value, MTB_PRIO_CONTROL, eb);
}

int mtb_hal_poll(struct mtb_hal *hal, struct mtb_errbuf *eb)
{
	int first = MTB_OK;
	for (int i = 0; i < hal->cfg->n_devices; i++) {
		struct mtb_device *d = &hal->devices[i];
		if (!d->bus)
			continue;
		int done[MTB_BENCH_MAX_POINTS], n = 0;
		for (int p = 0; p < d->cfg->n_points; p++) {
			bool seen = false;
			for (int k = 0; k < n; k++)
				seen |= done[k] == d->block[p];
			if (seen)
				continue;
			done[n++] = d->block[p];
			struct mtb_errbuf e2;
			int rc = mtb_bus_block_read(d->bus, d->block[p], MTB_PRIO_POLL, &e2);
			if (rc != MTB_OK && first == MTB_OK) {
				first = rc;
				if (eb)
					mtb_errbuf_set(eb, rc, "%s: %s", d->cfg->name, e2.msg);
			}
		}
	}
	return first;
}

/* ---- safety ---- */

static void safe_run_writes(struct mtb_hal *hal)
{
	/* Called by the watchdog thread only; the report's items are its own until published. */
	struct mtb_hal_safe_report rep;
	pthread_mutex_lock(&hal->mu);
	rep = hal->report;
	pthread_mutex_unlock(&hal->mu);
	for (int i = 0; i < rep.n_writes; i++) {
		if (rep.writes[i].rc == MTB_OK)
			continue;
		const struct mtb_safe_write *w = &hal->cfg->safe_state[i];
		struct mtb_errbuf eb = { { 0 } };
		int rc = write_point(hal, w->device, w->point, w->value, MTB_PRIO_SAFETY, &eb);
		rep.writes[i].rc = rc;
		snprintf(rep.writes[i].detail, sizeof rep.writes[i].detail, "%s", rc == MTB_OK ? "" : eb.msg);
		if (rc != MTB_OK)
			mtb_log_msg(hal->log, MTB_LOG_ERROR, TAG, "safe state: %s.%s <- %g failed: %s", rep.writes[i].device,
				    rep.writes[i].point, w->value, eb.msg);
	}
	rep.n_ok = 0;
	for (int i = 0; i < rep.n_writes; i++)
		rep.n_ok += rep.writes[i].rc == MTB_OK;
	if (rep.n_ok == rep.n_writes && rep.t_done_us == 0) {
		rep.t_done_us = mtb_bus_mono_us();
		mtb_log_msg(hal->log, MTB_LOG_WARN, TAG, "safe state reached (%s)", rep.reason);
	}
	pthread_mutex_lock(&hal->mu);
	/* A reset or a new trip may have happened meanwhile; only publish into the same episode. */
	if (hal->safe_active && hal->report.t_trip_us == rep.t_trip_us) {
		hal->report = rep;
		hal->safe_pending = rep.n_ok < rep.n_writes;
		hal->next_retry_us = mtb_bus_mono_us() + 500000;
	}
	pthread_mutex_unlock(&hal->mu);
}

/* mu held. */
static void safe_trip(struct mtb_hal *hal, const char *reason)
{
	struct mtb_hal_safe_report *r = &hal->report;
	memset(r, 0, sizeof *r);
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	r->t_trip_us = mtb_bus_mono_us();
	r->n_writes = hal->cfg->n_safe < MTB_HAL_SAFE_MAX ? hal->cfg->n_safe : MTB_HAL_SAFE_MAX;
	for (int i = 0; i < r->n_writes; i++) {
		const struct mtb_safe_write *w = &hal->cfg->safe_state[i];
		const struct mtb_device_cfg *d = &hal->cfg->devices[w->device];
		snprintf(r->writes[i].device, sizeof r->writes[i].device, "%s", d->name);
		snprintf(r->writes[i].point, sizeof r->writes[i].point, "%s", d->points[w->point].name);
		r->writes[i].value = w->value;
		r->writes[i].rc = MTB_ERR_STATE;   /* not yet tried */
	}
	hal->safe_active = true;
	hal->safe_pending = true;
	hal->next_retry_us = 0;
	mtb_log_msg(hal->log, MTB_LOG_ERROR, TAG, "commanding the safe state: %s", reason);
}

static void *watchdog_main(void *arg)
{
	struct mtb_hal *hal = arg;
	int period_ms = hal->opts.watchdog_period_ms > 0 ? hal->opts.watchdog_period_ms : 20;
	pthread_mutex_lock(&hal->mu);
	while (!hal->stop) {
		int64_t now = mtb_bus_mono_us();
		char reason[256] = "";
		bool forced = false;
		if (hal->abort_req) {
			snprintf(reason, sizeof reason, "abort: %s", hal->abort_reason);
			forced = true;
		} else if (!hal->safe_active && !hal->opts.no_watchdog) {
			for (int i = 0; i < hal->cfg->n_buses && !reason[0]; i++) {
				struct mtb_bus_health h;
				mtb_bus_health_get(hal->buses[i], &h);
				if (h.down_since_us && now - h.down_since_us >= (int64_t)hal->cfg->bus_deadline_ms * 1000)
					snprintf(reason, sizeof reason, "bus '%s' unreachable for %lld ms (deadline %d ms)",
						 hal->cfg->buses[i].name, (long long)((now - h.down_since_us) / 1000),
						 hal->cfg->bus_deadline_ms);
			}
			if (!reason[0] && hal->heartbeat_ms > 0 &&
			    now - hal->heartbeat_last_us >= (int64_t)hal->heartbeat_ms * 1000)
				snprintf(reason, sizeof reason, "heartbeat missed for %lld ms (timeout %d ms)",
					 (long long)((now - hal->heartbeat_last_us) / 1000), hal->heartbeat_ms);
		}
		if (reason[0] && (forced || !hal->safe_active))
			safe_trip(hal, reason);
		uint64_t abort_seq = hal->abort_seq;
		bool was_abort = hal->abort_req;
		hal->abort_req = false;
		if (hal->safe_active && hal->safe_pending && now >= hal->next_retry_us) {
			pthread_mutex_unlock(&hal->mu);
			safe_run_writes(hal);
			pthread_mutex_lock(&hal->mu);
			struct mtb_hal_safe_report rep = hal->report;
			if (hal->opts.on_safe_state) {
				pthread_mutex_unlock(&hal->mu);
				hal->opts.on_safe_state(hal->opts.user, &rep);
				pthread_mutex_lock(&hal->mu);
			}
		}
		if (was_abort) {
			hal->abort_done = abort_seq;
			pthread_cond_broadcast(&hal->cv);
		}
		if (hal->abort_req)
			continue;
		int64_t wake = mtb_bus_mono_us() + (int64_t)period_ms * 1000;
		struct timespec ts = { .tv_sec = wake / 1000000, .tv_nsec = (long)(wake % 1000000) * 1000 };
		pthread_cond_timedwait(&hal->cv, &hal->mu, &ts);
	}
	pthread_mutex_unlock(&hal->mu);
	return NULL;
}

int mtb_hal_abort(struct mtb_hal *hal, const char *reason, struct mtb_hal_safe_report *report)
{
	pthread_mutex_lock(&hal->mu);
	hal->abort_req = true;
	snprintf(hal->abort_reason, sizeof hal->abort_reason, "%s", reason ? reason : "requested");
	uint64_t my = ++hal->abort_seq;
	pthread_cond_broadcast(&hal->cv);
	while (hal->abort_done < my && !hal->stop)
		pthread_cond_wait(&hal->cv, &hal->mu);
	if (report)
		*report = hal->report;
	int rc = hal->report.n_ok == hal->report.n_writes ? MTB_OK : MTB_ERR_IO;
	pthread_mutex_unlock(&hal->mu);
	return rc;
}

bool mtb_hal_safe_state(struct mtb_hal *hal, struct mtb_hal_safe_report *report)
{
	pthread_mutex_lock(&hal->mu);
	bool active = hal->safe_active;
	if (active && report)
		*report = hal->report;
	pthread_mutex_unlock(&hal->mu);
	return active;
}

void mtb_hal_safe_reset(struct mtb_hal *hal)
{
	pthread_mutex_lock(&hal->mu);
	if (hal->safe_active)
		mtb_log_msg(hal->log, MTB_LOG_WARN, TAG, "safe state reset (was: %s)", hal->report.reason);
	hal->safe_active = false;
	hal->safe_pending = false;
	hal->heartbeat_last_us = mtb_bus_mono_us();
	pthread_mutex_unlock(&hal->mu);
}

void mtb_hal_heartbeat_arm(struct mtb_hal *hal, int timeout_ms)
{
	pthread_mutex_lock(&hal->mu);
	hal->heartbeat_ms = timeout_ms > 0 ? timeout_ms : 0;
	hal->heartbeat_last_us = mtb_bus_mono_us();
	pthread_mutex_unlock(&hal->mu);
}

void mtb_hal_heartbeat(struct mtb_hal *hal)
{
	pthread_mutex_lock(&hal->mu);
	hal->heartbeat_last_us = mtb_bus_mono_us();
	pthread_mutex_unlock(&hal->mu);
}

/* ---- life cycle ---- */

int mtb_hal_create(struct mtb_hal **out, const struct mtb_bench_cfg *cfg, const struct mtb_hal_opts *opts,
		   struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!cfg)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "hal: no bench configuration");
	struct mtb_hal *hal = calloc(1, sizeof *hal);
	if (!hal)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "hal: out of memory");
	if (opts)
		hal->opts = *opts;
	hal->cfg = cfg;
	hal->clock = hal->opts.clock ? hal->opts.clock : &mtb_clock_system;
	hal->log = hal->opts.log;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&hal->mu, NULL);
	pthread_cond_init(&hal->cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = MTB_OK;
	for (int i = 0; i < cfg->n_buses && rc == MTB_OK; i++)
		rc = mtb_bus_create(&hal->buses[i], &cfg->buses[i], hal->clock, hal->log, eb);
	for (int i = 0; i < cfg->n_devices && rc == MTB_OK; i++) {
		struct mtb_device *d = &hal->devices[i];
		d->hal = hal;
		d->index = i;
		d->cfg = &cfg->devices[i];
		d->drv = mtb_driver_find(d->cfg);
		d->bus = d->cfg->bus >= 0 ? hal->buses[d->cfg->bus] : NULL;
		if (!d->drv)
			rc = mtb_errbuf_set(eb, MTB_ERR_NOTSUP, "device '%s': no driver for class %s", d->cfg->name,
					    mtb_device_class_name(d->cfg->cls));
		else if (d->bus)
			rc = build_blocks(d, eb);
		if (rc == MTB_OK && d->drv->open)
			rc = d->drv->open(d, eb);
		if (rc != MTB_OK)
			d->drv = NULL;   /* not opened: not closed */
	}
	if (rc == MTB_OK) {
		hal->heartbeat_last_us = mtb_bus_mono_us();
		if (pthread_create(&hal->watchdog, NULL, watchdog_main, hal) != 0)
			rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "hal: cannot start the watchdog thread");
		else
			hal->watchdog_started = true;
	}
	if (rc != MTB_OK) {
		mtb_hal_destroy(hal);
		return rc;
	}
	*out = hal;
	return MTB_OK;
}

void mtb_hal_destroy(struct mtb_hal *hal)
{
	if (!hal)
		return;
	pthread_mutex_lock(&hal->mu);
	hal->stop = true;
	pthread_cond_broadcast(&hal->cv);
	pthread_mutex_unlock(&hal->mu);
	if (hal->watchdog_started)
		pthread_join(hal->watchdog, NULL);
	for (int i = 0; i < hal->cfg->n_devices; i++) {
		struct mtb_device *d = &hal->devices[i];
		if (d->drv && d->drv->close)
			d->drv->close(d);
	}
	for (int i = 0; i < hal->cfg->n_buses; i++)
		mtb_bus_destroy(hal->buses[i]);
	pthread_mutex_destroy(&hal->mu);
	pthread_cond_destroy(&hal->cv);
	free(hal);
}

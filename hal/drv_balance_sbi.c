/* Driver: Sartorius balance speaking SBI on a serial line (bench file: class balance,
 * protocol sbi). Frames are taken apart by the pure parser of balance_sbi.h.
 *
 * Commands (cans-and-audit-notes 1.6 [C]; format 1, ESC and one letter, CR LF allowed after):
 *   ESC P  print: one 16- or 22-character frame. Whether the balance waits for stability before
 *          it answers is a menu setting of the balance, not a command; either works here.
 *   ESC U  tare, ESC V zero. Neither is answered: each is confirmed by printing until a stable
 *          frame shows zero (net after a tare, gross after a zero) within the device's timeout.
 * A frame with a unit is a stable reading. A frame without one is the balance moving [U]: its
 * value is returned as not stable, read in the unit of the last stable frame and only when it
 * has as many decimals as that frame (the same unit and resolution); before any stable frame
 * in the bench file's `unit` when it gives one (a run resumed on a draining can), else
 * refused. H/HH and L/LL (overload, underload) are
 * MTB_ERR_RANGE; C (adjustment) and Err ## are MTB_ERR_REFUSED; no frame within timeout_ms is
 * MTB_ERR_TIMEOUT. */
#include "hal/balance_sbi.h"
#include "hal/hal_priv.h"
#include "hal/serial_link.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char TAG[] = "balance-sbi";

struct sbi {
	struct mtb_serial_link *link;
	pthread_mutex_t mu;        /* one exchange at a time */
	char unit[4];              /* of the last stable frame; "" before the first */
	int decimals;              /* of the last stable frame */
};

static int open_sbi(struct mtb_device *d, struct mtb_errbuf *eb)
{
	struct sbi *b = calloc(1, sizeof *b);
	if (!b)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	int rc = mtb_serial_link_open(&b->link, d->cfg, eb);
	if (rc != MTB_OK) {
		free(b);
		return rc;
	}
	pthread_mutex_init(&b->mu, NULL);
	d->priv = b;
	return MTB_OK;
}

static void close_sbi(struct mtb_device *d)
{
	struct sbi *b = d->priv;
	if (!b)
		return;
	mtb_serial_link_close(b->link);
	pthread_mutex_destroy(&b->mu);
	free(b);
	d->priv = NULL;
}

/* ESC P and its frame, mu held: the reading, or the failure with its reason in eb. */
static int print_locked(struct mtb_device *d, int64_t *mass_mg, bool *stable, struct mtb_errbuf *eb)
{
	struct sbi *b = d->priv;
	char line[64];
	size_t len = 0;
	mtb_serial_link_flush_input(b->link);   /* a frame that belongs to now */
	int rc = mtb_serial_link_write(b->link, "\x1bP\r\n", 4, d->cfg->timeout_ms);
	if (rc == MTB_OK)
		rc = mtb_serial_link_read_line(b->link, line, sizeof line, d->cfg->timeout_ms, &len);
	if (rc == MTB_ERR_TIMEOUT)
		return mtb_errbuf_set(eb, rc, "%s: no reply within %d ms", d->cfg->name, d->cfg->timeout_ms);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s: serial line error", d->cfg->name);
	struct mtb_sbi_frame f;
	const char *why = "";
	rc = mtb_balance_sbi_frame(line, len, &f, &why);
	if (rc == MTB_OK && f.unit[0]) {
		if (mtb_balance_sbi_mass_mg(&f, f.unit, mass_mg) != MTB_OK)
			rc = MTB_ERR_PROTO, why = "value out of range";
		else {
			memcpy(b->unit, f.unit, sizeof b->unit);
			b->decimals = f.decimals;
			*stable = true;
		}
	} else if (rc == MTB_OK) {
		/* moving: no unit in the frame; that of the last stable frame, else the bench file's */
		const char *unit = b->unit[0] ? b->unit : d->cfg->unit;
		if (!unit[0])
			rc = MTB_ERR_REFUSED, why = "moving (no unit sent) and no stable frame yet to take the unit from";
		else if (b->unit[0] && f.decimals != b->decimals)
			rc = MTB_ERR_REFUSED, why = "moving (no unit sent) with other decimals than the last stable frame";
		else if (mtb_balance_sbi_mass_mg(&f, unit, mass_mg) != MTB_OK)
			rc = MTB_ERR_PROTO, why = "value out of range";
		else
			*stable = false;
	}
	if (rc != MTB_OK) {
		mtb_log_msg(mtb_hal_log(d->hal), MTB_LOG_WARN, TAG, "%s: frame '%s' refused: %s", d->cfg->name, line, why);
		return mtb_errbuf_set(eb, rc, "%s: %s (frame '%s')", d->cfg->name, why, line);
	}
	return MTB_OK;
}

static int read_mg(struct mtb_device *d, int64_t *mass_mg, bool *stable, int64_t *t_us, struct mtb_errbuf *eb)
{
	struct sbi *b = d->priv;
	int64_t mg = 0;
	bool st = false;
	pthread_mutex_lock(&b->mu);
	int rc = print_locked(d, &mg, &st, eb);
	int64_t t = mtb_clock_now_us(mtb_hal_clock(d->hal));
	pthread_mutex_unlock(&b->mu);
	if (rc != MTB_OK)
		return rc;
	*mass_mg = mg;
	if (stable)
		*stable = st;
	if (t_us)
		*t_us = t;
	return MTB_OK;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends an unanswered command, then prints until a stable frame shows zero. */
static int command_confirmed(struct mtb_device *d, const char *cmd, const char *what, struct mtb_errbuf *eb)
{
	struct sbi *b = d->priv;
	pthread_mutex_lock(&b->mu);
	int rc = mtb_serial_link_write(b->link, cmd, strlen(cmd), d->cfg->timeout_ms);
	if (rc != MTB_OK) {
		pthread_mutex_unlock(&b->mu);
		return mtb_errbuf_set(eb, rc, "%s: serial line error", d->cfg->name);
	}
	int64_t end = mono_ms() + d->cfg->timeout_ms;
	int64_t mg = 0;
	bool st = false;
	for (;;) {
		rc = print_locked(d, &mg, &st, eb);
		if (rc == MTB_OK && st && mg == 0)
			break;
		if (rc == MTB_ERR_RANGE || rc == MTB_ERR_TIMEOUT || rc == MTB_ERR_IO || mono_ms() >= end) {
			if (rc == MTB_OK)
				rc = mtb_errbuf_set(eb, MTB_ERR_REFUSED, "%s: %s not confirmed within %d ms (the balance shows %lld mg%s)",
						    d->cfg->name, what, d->cfg->timeout_ms, (long long)mg, st ? "" : ", moving");
			else
				mtb_errbuf_prefix(eb, rc, "%s not confirmed", what);
			break;
		}
		struct timespec pause = { 0, 50 * 1000000L };   /* the balance's own display rate is about 10 Hz */
		nanosleep(&pause, NULL);
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

static int tare(struct mtb_device *d, struct mtb_errbuf *eb) { return command_confirmed(d, "\x1bU\r\n", "tare", eb); }
static int zero(struct mtb_device *d, struct mtb_errbuf *eb) { return command_confirmed(d, "\x1bV\r\n", "zero", eb); }

static const struct mtb_balance_ops OPS = { .read_mg = read_mg, .tare = tare, .zero = zero };

const struct mtb_driver mtb_drv_balance_sbi = {
	.cls = MTB_DEV_BALANCE, .name = "balance-sbi", .protocols = "sbi", .open = open_sbi, .close = close_sbi,
	.balance = &OPS,
};

/* Driver: balance on a serial line speaking MT-SICS or a generic line protocol (bench file:
 * class balance, uri serial:///dev/..., protocol sics|line). The replies are parsed by the pure
 * parsers of balance_parse.h; the line itself is hal/serial_link.h. SICS: SI weighs now ("S S"
 * stable, "S D" dynamic), T tares, Z zeroes; the line protocol is read as the balance prints it. */
#include "hal/balance_parse.h"
#include "hal/hal_priv.h"
#include "hal/serial_link.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char TAG[] = "balance";

struct balance {
	struct mtb_serial_link *link;
	pthread_mutex_t mu;   /* one exchange at a time */
	bool sics;
};

static int open_balance(struct mtb_device *d, struct mtb_errbuf *eb)
{
	struct balance *b = calloc(1, sizeof *b);
	if (!b)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	b->sics = strcmp(d->cfg->protocol, "sics") == 0;
	int rc = mtb_serial_link_open(&b->link, d->cfg, eb);
	if (rc != MTB_OK) {
		free(b);
		return rc;
	}
	pthread_mutex_init(&b->mu, NULL);
	d->priv = b;
	return MTB_OK;
}

static void close_balance(struct mtb_device *d)
{
	struct balance *b = d->priv;
	if (!b)
		return;
	mtb_serial_link_close(b->link);
	pthread_mutex_destroy(&b->mu);
	free(b);
	d->priv = NULL;
}

/* One command and its reply line (mu taken here). */
static int exchange(struct mtb_device *d, const char *cmd, char *line, size_t cap, size_t *len, struct mtb_errbuf *eb)
{
	struct balance *b = d->priv;
	pthread_mutex_lock(&b->mu);
	/* Drop anything old, so the line read belongs to now. */
	mtb_serial_link_flush_input(b->link);
	int rc = MTB_OK;
	if (cmd)
		rc = mtb_serial_link_write(b->link, cmd, strlen(cmd), d->cfg->timeout_ms);
	if (rc == MTB_OK)
		rc = mtb_serial_link_read_line(b->link, line, cap, d->cfg->timeout_ms, len);
	pthread_mutex_unlock(&b->mu);
	if (rc == MTB_ERR_TIMEOUT)
		return mtb_errbuf_set(eb, rc, "%s: no reply within %d ms", d->cfg->name, d->cfg->timeout_ms);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s: serial line error", d->cfg->name);
	return MTB_OK;
}

static int read_mg(struct mtb_device *d, int64_t *mass_mg, bool *stable, int64_t *t_us, struct mtb_errbuf *eb)
{
	struct balance *b = d->priv;
	char line[128];
	size_t len = 0;
	int rc = exchange(d, b->sics ? "SI\r\n" : NULL, line, sizeof line, &len, eb);
	int64_t t = mtb_clock_now_us(mtb_hal_clock(d->hal));
	if (rc != MTB_OK)
		return rc;
	struct mtb_balance_reading r;
	const char *why = "";
	rc = b->sics ? mtb_balance_parse_sics(line, len, &r, &why) : mtb_balance_parse_line(line, len, &r, &why);
	if (rc != MTB_OK) {
		mtb_log_msg(mtb_hal_log(d->hal), MTB_LOG_WARN, TAG, "%s: reply '%s' refused: %s", d->cfg->name, line, why);
		return mtb_errbuf_set(eb, rc, "%s: %s (reply '%s')", d->cfg->name, why, line);
	}
	*mass_mg = r.mass_mg;
	if (stable)
		*stable = r.stable;
	if (t_us)
		*t_us = t;
	return MTB_OK;
}

/* SICS T and Z: the balance answers once it has done it (or why not). */
static int tare_or_zero(struct mtb_device *d, bool tare, struct mtb_errbuf *eb)
{
	struct balance *b = d->priv;
	if (!b->sics)
		return mtb_errbuf_set(eb, MTB_ERR_NOTSUP, "%s: the line protocol has no %s command", d->cfg->name,
				      tare ? "tare" : "zero");
	char line[128];
	size_t len = 0;
	int rc = exchange(d, tare ? "T\r\n" : "Z\r\n", line, sizeof line, &len, eb);
	if (rc != MTB_OK)
		return rc;
	const char *why = "";
	int64_t tare_mg;
	rc = tare ? mtb_balance_parse_sics_tare(line, len, &tare_mg, &why) : mtb_balance_parse_sics_zero(line, len, &why);
	if (rc != MTB_OK) {
		mtb_log_msg(mtb_hal_log(d->hal), MTB_LOG_WARN, TAG, "%s: reply '%s' refused: %s", d->cfg->name, line, why);
		return mtb_errbuf_set(eb, rc, "%s: %s (reply '%s')", d->cfg->name, why, line);
	}
	return MTB_OK;
}

static int tare(struct mtb_device *d, struct mtb_errbuf *eb) { return tare_or_zero(d, true, eb); }
static int zero(struct mtb_device *d, struct mtb_errbuf *eb) { return tare_or_zero(d, false, eb); }

static const struct mtb_balance_ops OPS = { .read_mg = read_mg, .tare = tare, .zero = zero };

const struct mtb_driver mtb_drv_balance = {
	.cls = MTB_DEV_BALANCE, .name = "balance", .protocols = "sics line", .open = open_balance, .close = close_balance, .balance = &OPS,
};

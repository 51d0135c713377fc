/* A balance's serial line over libserialport or termios; see serial_link.h. */
#include "hal/serial_link.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct link_ops {
	int (*write)(struct mtb_serial_link *l, const char *buf, size_t n, int timeout_ms);
	int (*read_byte)(struct mtb_serial_link *l, char *c, int timeout_ms);   /* 1, 0 on timeout, <0 error */
	void (*flush_input)(struct mtb_serial_link *l);
	void (*close)(struct mtb_serial_link *l);
};

struct mtb_serial_link {
	const struct link_ops *ops;
	struct sp_port *sp;
	int fd;
};

/* ---- libserialport ---- */
static int sp_write(struct mtb_serial_link *l, const char *buf, size_t n, int timeout_ms)
{
	return sp_blocking_write(l->sp, buf, n, (unsigned)timeout_ms) == (int)n ? MTB_OK : MTB_ERR_IO;
}
static int sp_read_byte(struct mtb_serial_link *l, char *c, int timeout_ms)
{
	int n = sp_blocking_read(l->sp, c, 1, (unsigned)timeout_ms);
	return n < 0 ? MTB_ERR_IO : n;   /* 0 on timeout (bench notes 3.8) */
}
static void sp_flush_in(struct mtb_serial_link *l) { sp_flush(l->sp, SP_BUF_INPUT); }
static void sp_close_link(struct mtb_serial_link *l)
{
	sp_close(l->sp);
	sp_free_port(l->sp);
	l->sp = NULL;
}
static const struct link_ops SP_OPS = { sp_write, sp_read_byte, sp_flush_in, sp_close_link };

/* ---- termios (pseudo-terminals) ---- */
static int tty_write(struct mtb_serial_link *l, const char *buf, size_t n, int timeout_ms)
{
	(void)timeout_ms;
	while (n) {
		ssize_t w = write(l->fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return MTB_ERR_IO;
		buf += w;
		n -= (size_t)w;
	}
	return MTB_OK;
}
static int tty_read_byte(struct mtb_serial_link *l, char *c, int timeout_ms)
{
	struct pollfd p = { .fd = l->fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EINTR ? 0 : MTB_ERR_IO;
	ssize_t r = read(l->fd, c, 1);
	return r == 1 ? 1 : MTB_ERR_IO;
}
static void tty_flush_in(struct mtb_serial_link *l) { tcflush(l->fd, TCIFLUSH); }
static void tty_close_link(struct mtb_serial_link *l)
{
	close(l->fd);
	l->fd = -1;
}
static const struct link_ops TTY_OPS = { tty_write, tty_read_byte, tty_flush_in, tty_close_link };

static speed_t tty_speed(int baud)
{
	switch (baud) {
	case 1200: return B1200;
	case 2400: return B2400;
	case 4800: return B4800;
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	default: return B0;
	}
}

static int open_tty(struct mtb_serial_link *l, const char *path, const struct mtb_bus_cfg *c, struct mtb_errbuf *eb)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "cannot open %s: %s", path, strerror(errno));
	struct termios t;
	speed_t sp = tty_speed(c->baud);
	if (tcgetattr(fd, &t) != 0 || sp == B0) {
		close(fd);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot set %d Bd", path, c->baud);
	}
	cfmakeraw(&t);
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB);
	t.c_cflag |= (c->data_bits == 7 ? CS7 : CS8) | (c->stop_bits == 2 ? CSTOPB : 0) | CLOCAL | CREAD;
	if (c->parity != 'N')
		t.c_cflag |= PARENB | (c->parity == 'O' ? PARODD : 0);
	tcsetattr(fd, TCSANOW, &t);
	l->ops = &TTY_OPS;
	l->fd = fd;
	return MTB_OK;
}

static int open_sp(struct mtb_serial_link *l, const char *path, const struct mtb_bus_cfg *c, struct mtb_errbuf *eb)
{
	struct sp_port *port;
	if (sp_get_port_by_name(path, &port) != SP_OK)
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "libserialport does not know %s", path);
	if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
		char *msg = sp_last_error_message();
		mtb_errbuf_set(eb, MTB_ERR_IO, "cannot open %s: %s", path, msg ? msg : "?");
		sp_free_error_message(msg);
		sp_free_port(port);
		return MTB_ERR_IO;
	}
	enum sp_parity par = c->parity == 'E' ? SP_PARITY_EVEN : c->parity == 'O' ? SP_PARITY_ODD : SP_PARITY_NONE;
	if (sp_set_baudrate(port, c->baud) != SP_OK || sp_set_bits(port, c->data_bits) != SP_OK ||
	    sp_set_parity(port, par) != SP_OK || sp_set_stopbits(port, c->stop_bits) != SP_OK ||
	    sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) != SP_OK) {
		sp_close(port);
		sp_free_port(port);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot set %d Bd %d%c%d", path, c->baud, c->data_bits, c->parity,
				      c->stop_bits);
	}
	l->ops = &SP_OPS;
	l->sp = port;
	return MTB_OK;
}

int mtb_serial_link_open(struct mtb_serial_link **out, const struct mtb_device_cfg *dev, struct mtb_errbuf *eb)
{
	*out = NULL;
	/* serial:///dev/X?baud=.. has the parameters of an RTU bus URI; balances default to 8N1. */
	struct mtb_bus_cfg c;
	memset(&c, 0, sizeof c);
	char uri[300];
	snprintf(uri, sizeof uri, "rtu://%s", dev->uri + strlen("serial://"));
	if (mtb_bus_cfg_parse_uri(&c, uri, eb) != MTB_OK)
		return mtb_errbuf_prefix(eb, MTB_ERR_ARG, "device '%s': uri", dev->name);
	if (!strstr(dev->uri, "parity="))
		c.parity = 'N';
	if (!strstr(dev->uri, "baud="))
		c.baud = 9600;
	char real[PATH_MAX];
	if (!realpath(c.device, real))
		return mtb_errbuf_set(eb, MTB_ERR_IO, "device '%s': %s: %s", dev->name, c.device, strerror(errno));
	struct mtb_serial_link *l = calloc(1, sizeof *l);
	if (!l)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	l->fd = -1;
	int rc = open_sp(l, real, &c, eb);
	if (rc == MTB_ERR_NOTFOUND && strncmp(real, "/dev/pts/", 9) == 0)
		rc = open_tty(l, real, &c, eb);
	if (rc == MTB_OK) {
		int fd = l->fd;
		if (l->sp)
			sp_get_port_handle(l->sp, &fd);
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			l->ops->close(l);
			rc = mtb_errbuf_set(eb, MTB_ERR_IO, "%s is in use by another program", real);
		}
	}
	if (rc != MTB_OK) {
		free(l);
		return mtb_errbuf_prefix(eb, rc, "device '%s'", dev->name);
	}
	*out = l;
	return MTB_OK;
}

void mtb_serial_link_close(struct mtb_serial_link *l)
{
	if (!l)
		return;
	l->ops->close(l);
	free(l);
}

int mtb_serial_link_write(struct mtb_serial_link *l, const char *buf, size_t n, int timeout_ms)
{
	return l->ops->write(l, buf, n, timeout_ms);
}

void mtb_serial_link_flush_input(struct mtb_serial_link *l) { l->ops->flush_input(l); }

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mtb_serial_link_read_line(struct mtb_serial_link *l, char *buf, size_t cap, int timeout_ms, size_t *len)
{
	int64_t end = mono_ms() + timeout_ms;
	size_t n = 0;
	for (;;) {
		int64_t left = end - mono_ms();
		if (left <= 0)
			return MTB_ERR_TIMEOUT;
		char c;
		int r = l->ops->read_byte(l, &c, (int)left);
		if (r < 0)
			return MTB_ERR_IO;
		if (r == 0)
			continue;
		if (c == '\n') {
			if (n && buf[n - 1] == '\r')
				n--;
			if (n == 0)
				continue;   /* blank line */
			*len = n;
			buf[n] = '\0';
			return MTB_OK;
		}
		if (n + 1 >= cap)
			n = 0;   /* runaway line: keep the tail only */
		buf[n++] = c;
	}
}

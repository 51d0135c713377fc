/* meterbench hal, private: a balance's serial line, shared by the balance drivers (drv_balance.c
 * for MT-SICS and the generic line, drv_balance_sbi.c for Sartorius SBI).
 *
 * The line is opened with libserialport. Debian's libserialport 0.1.1 does not know
 * pseudo-terminals (it looks the port up in sysfs), which is where the tests and the simulator
 * put their balances, so a /dev/pts/N device is opened with termios instead; both sit behind
 * the same small table. The port is locked with flock (0.1.1 has no exclusive open) and a udev
 * symlink is resolved to its real path first (bench notes 3.8). */
#ifndef MTB_HAL_SERIAL_LINK_H
#define MTB_HAL_SERIAL_LINK_H

#include "core/err.h"
#include "hal/bench_cfg.h"

#include <stddef.h>

struct mtb_serial_link;

/* Opens the device's uri (serial:///dev/X?baud=..&parity=..&data=..&stop=..; 9600 8N1 unless
 * given). Errors name the device. */
int mtb_serial_link_open(struct mtb_serial_link **out, const struct mtb_device_cfg *dev, struct mtb_errbuf *eb);
void mtb_serial_link_close(struct mtb_serial_link *l);   /* NULL: no-op */

int mtb_serial_link_write(struct mtb_serial_link *l, const char *buf, size_t n, int timeout_ms);
/* Drops whatever has arrived and not been read. */
void mtb_serial_link_flush_input(struct mtb_serial_link *l);
/* One non-blank line (CR LF or LF removed, NUL-terminated) within timeout_ms: MTB_OK,
 * MTB_ERR_TIMEOUT, MTB_ERR_IO. A line longer than cap keeps its tail. */
int mtb_serial_link_read_line(struct mtb_serial_link *l, char *buf, size_t cap, int timeout_ms, size_t *len);

#endif

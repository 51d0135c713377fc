/* meterbench hal: the bench file (configs/benches/NAME.yaml, format in docs/bench-config.md):
 * buses, devices and their register maps, the safe state, cameras. Loaded and validated here;
 * every refusal names the file, the line where it can be found, and the field. */
#ifndef MTB_HAL_BENCH_CFG_H
#define MTB_HAL_BENCH_CFG_H

#include "core/err.h"
#include "hal/reg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTB_BENCH_NAME_MAX 32        /* names incl. NUL */
#define MTB_BENCH_MAX_BUSES 16
#define MTB_BENCH_MAX_DEVICES 64
#define MTB_BENCH_MAX_POINTS 16      /* per device */
#define MTB_BENCH_MAX_SAFE 32
#define MTB_BENCH_MAX_CAMERAS 64

enum mtb_bus_kind { MTB_BUS_TCP = 0, MTB_BUS_RTU };

struct mtb_bus_cfg {
	char name[MTB_BENCH_NAME_MAX];
	char uri[256];
	enum mtb_bus_kind kind;
	char host[128];          /* TCP */
	int port;                /* TCP */
	char device[200];        /* RTU: serial device path */
	int baud;                /* RTU, default 19200 */
	char parity;             /* 'N', 'E', 'O'; default 'E' (Modbus over serial line, 2.5.1) */
	int data_bits, stop_bits;
	bool rs485;              /* RTU: ask the driver for RS-485 mode (optional: ptys refuse it) */
	int response_timeout_ms; /* default 500 */
	int retries;             /* default 2 */
	int gap_ms;              /* RTU inter-frame silence; default from the baud rate */
	int poll_ms;             /* background poll period of the bus's blocks; 0 = no poller */
	int backoff_max_ms;      /* reconnect back-off ceiling, default 2000 */
};

enum mtb_device_class {
	MTB_DEV_VALVE = 0,
	MTB_DEV_CONTROL_VALVE,
	MTB_DEV_PUMP,
	MTB_DEV_REFERENCE,
	MTB_DEV_PRESSURE,
	MTB_DEV_TEMPERATURE,
	MTB_DEV_BALANCE,
	MTB_DEV_SIM_CLOCK,
	MTB_DEV_HUMIDITY,      /* relative humidity transmitter (air density of gravimetry) */
};

enum mtb_reg_function { MTB_FN_COIL = 0, MTB_FN_DISCRETE, MTB_FN_HOLDING, MTB_FN_INPUT };

struct mtb_point_cfg {
	char name[MTB_BENCH_NAME_MAX];
	enum mtb_reg_function function;
	uint16_t address;
	enum mtb_reg_type type;
	enum mtb_reg_order order;
	double scale;            /* engineering = raw x scale */
	char unit[16];
	bool writable;
};

struct mtb_device_cfg {
	char name[MTB_BENCH_NAME_MAX];
	enum mtb_device_class cls;
	int bus;                 /* index into buses; -1 for a serial-line balance */
	int unit_id;
	struct mtb_point_cfg points[MTB_BENCH_MAX_POINTS];
	int n_points;
	char certificate[64];    /* reference-meter */
	double pulses_per_l;     /* reference-meter; 0 when absent */
	char uri[256];           /* balance: serial:///dev/ttyUSB1?baud=9600&parity=N&data=8&stop=1 */
	char protocol[16];       /* balance: "sics", "sbi" or "line" */
	char unit[4];            /* SBI balance: the unit it displays ("" unknown: taken from its stable frames) */
	int timeout_ms;          /* balance: reply timeout, default 1000 */
	int response_timeout_ms; /* Modbus: this device's reply timeout; 0 = its bus's */
};

struct mtb_safe_write {
	int device;              /* index into devices */
	int point;               /* index into that device's points */
	double value;
};

struct mtb_camera_cfg {
	char name[MTB_BENCH_NAME_MAX];
	int position;
	char uri[256];
};

struct mtb_bench_cfg {
	char name[64];
	char origin[256];        /* file it came from */
	struct mtb_bus_cfg buses[MTB_BENCH_MAX_BUSES];
	int n_buses;
	struct mtb_device_cfg devices[MTB_BENCH_MAX_DEVICES];
	int n_devices;
	int bus_deadline_ms;     /* default 3000 */
	struct mtb_safe_write safe_state[MTB_BENCH_MAX_SAFE];
	int n_safe;
	struct mtb_camera_cfg cameras[MTB_BENCH_MAX_CAMERAS];
	int n_cameras;
};

/* Parses bench YAML text; origin names it in errors. *out is malloc'd; free with
 * mtb_bench_cfg_destroy. */
int mtb_bench_cfg_parse(const char *data, size_t len, const char *origin,
			struct mtb_bench_cfg **out, struct mtb_errbuf *eb);

/* Loads a bench file by path or by name (configs/benches/NAME.yaml, see core/config.h). */
int mtb_bench_cfg_load(const char *path_or_name, struct mtb_bench_cfg **out, struct mtb_errbuf *eb);

void mtb_bench_cfg_destroy(struct mtb_bench_cfg *cfg);

/* Lookups; -1 when absent. */
int mtb_bench_cfg_device(const struct mtb_bench_cfg *cfg, const char *name);
int mtb_bench_cfg_point(const struct mtb_device_cfg *dev, const char *name);

const char *mtb_device_class_name(enum mtb_device_class cls);
const char *mtb_reg_function_name(enum mtb_reg_function fn);

/* Parses a bus uri (tcp://HOST:PORT or rtu://PATH?baud=..&parity=..&data=..&stop=..) into the
 * transport fields of bus; MTB_ERR_ARG with the reason in eb. */
int mtb_bus_cfg_parse_uri(struct mtb_bus_cfg *bus, const char *uri, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif

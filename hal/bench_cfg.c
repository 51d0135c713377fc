/* Bench file loader: libcyaml into string fields, then strict conversion and validation. */
#include "hal/bench_cfg.h"

#include "core/config.h"
#include "core/yaml_load.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The YAML as libcyaml fills it: every scalar a string (see core/yaml_load.h). ---- */
struct point_yaml {
	char *name, *function, *address, *type, *order, *scale, *unit, *access;
};
struct bus_yaml {
	char *name, *uri, *response_timeout_ms, *retries, *gap_ms, *poll_ms, *backoff_max_ms, *rs485;
};
struct device_yaml {
	char *name, *cls, *bus, *unit_id, *certificate, *pulses_per_l, *uri, *protocol, *timeout_ms, *response_timeout_ms;
	char *unit;
	struct point_yaml *points;
	unsigned points_count;
};
struct safe_yaml {
	char *device, *point, *value;
};
struct safety_yaml {
	char *bus_deadline_ms;
	struct safe_yaml *safe_state;
	unsigned safe_state_count;
};
struct camera_yaml {
	char *name, *position, *uri;
};
struct bench_yaml {
	char *name, *description;
	struct bus_yaml *buses;
	unsigned buses_count;
	struct device_yaml *devices;
	unsigned devices_count;
	struct safety_yaml *safety;
	struct camera_yaml *cameras;
	unsigned cameras_count;
};

#define S(key, st, member) CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER, st, member, 0, 255)
#define SO(key, st, member) CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, st, member, 0, 255)

static const cyaml_schema_field_t POINT_FIELDS[] = {
	S("name", struct point_yaml, name),
	S("function", struct point_yaml, function),
	S("address", struct point_yaml, address),
	S("type", struct point_yaml, type),
	SO("order", struct point_yaml, order),
	SO("scale", struct point_yaml, scale),
	SO("unit", struct point_yaml, unit),
	SO("access", struct point_yaml, access),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t POINT_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct point_yaml, POINT_FIELDS),
};

static const cyaml_schema_field_t BUS_FIELDS[] = {
	S("name", struct bus_yaml, name),
	S("uri", struct bus_yaml, uri),
	SO("response_timeout_ms", struct bus_yaml, response_timeout_ms),
	SO("retries", struct bus_yaml, retries),
	SO("gap_ms", struct bus_yaml, gap_ms),
	SO("poll_ms", struct bus_yaml, poll_ms),
	SO("backoff_max_ms", struct bus_yaml, backoff_max_ms),
	SO("rs485", struct bus_yaml, rs485),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t BUS_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct bus_yaml, BUS_FIELDS),
};

static const cyaml_schema_field_t DEVICE_FIELDS[] = {
	S("name", struct device_yaml, name),
	S("class", struct device_yaml, cls),
	SO("bus", struct device_yaml, bus),
	SO("unit_id", struct device_yaml, unit_id),
	SO("certificate", struct device_yaml, certificate),
	SO("pulses_per_l", struct device_yaml, pulses_per_l),
	SO("uri", struct device_yaml, uri),
	SO("protocol", struct device_yaml, protocol),
	SO("unit", struct device_yaml, unit),
	SO("timeout_ms", struct device_yaml, timeout_ms),
	SO("response_timeout_ms", struct device_yaml, response_timeout_ms),
	CYAML_FIELD_SEQUENCE("points", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct device_yaml,
			     points, &POINT_SCHEMA, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t DEVICE_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct device_yaml, DEVICE_FIELDS),
};

static const cyaml_schema_field_t SAFE_FIELDS[] = {
	S("device", struct safe_yaml, device),
	S("point", struct safe_yaml, point),
	S("value", struct safe_yaml, value),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t SAFE_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct safe_yaml, SAFE_FIELDS),
};

static const cyaml_schema_field_t SAFETY_FIELDS[] = {
	SO("bus_deadline_ms", struct safety_yaml, bus_deadline_ms),
	CYAML_FIELD_SEQUENCE("safe_state", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct safety_yaml,
			     safe_state, &SAFE_SCHEMA, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t CAMERA_FIELDS[] = {
	S("name", struct camera_yaml, name),
	S("position", struct camera_yaml, position),
	S("uri", struct camera_yaml, uri),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t CAMERA_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct camera_yaml, CAMERA_FIELDS),
};

static const cyaml_schema_field_t BENCH_FIELDS[] = {
	S("name", struct bench_yaml, name),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			       struct bench_yaml, description, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("buses", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct bench_yaml,
			     buses, &BUS_SCHEMA, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("devices", CYAML_FLAG_POINTER, struct bench_yaml, devices,
			     &DEVICE_SCHEMA, 1, CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("safety", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct bench_yaml,
				safety, SAFETY_FIELDS),
	CYAML_FIELD_SEQUENCE("cameras", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct bench_yaml,
			     cameras, &CAMERA_SCHEMA, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t BENCH_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct bench_yaml, BENCH_FIELDS),
};

/* ---- Names ---- */
static const char *const CLASS_NAMES[] = { "valve", "control-valve", "pump", "reference-meter",
					   "pressure", "temperature", "balance", "sim-clock", "humidity" };
static const char *const FN_NAMES[] = { "coil", "discrete", "holding", "input" };

const char *mtb_device_class_name(enum mtb_device_class cls)
{
	return (unsigned)cls < sizeof CLASS_NAMES / sizeof CLASS_NAMES[0] ? CLASS_NAMES[cls] : "?";
}

const char *mtb_reg_function_name(enum mtb_reg_function fn)
{
	return (unsigned)fn < 4 ? FN_NAMES[fn] : "?";
}

static int lookup(const char *const *names, int n, const char *text)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], text) == 0)
			return i;
	return -1;
}

/* ---- Error context: "FILE: line L: WHERE: field 'F': why" ---- */
struct ctx {
	const char *data;
	const char *origin;
	struct mtb_errbuf *eb;
	char where[96];   /* "device 'pump'", "bus 'plant'" ... */
	int line;         /* line where `where` starts, 0 if unknown */
};

/* Line (1-based) of the first line at or after `from` that contains `a` followed (after
 * optional spaces and quotes) by `b`; 0 when none. Finds "name: pump" in block or flow style. */
static int find_line(const char *data, int from, const char *a, const char *b)
{
	int line = 1;
	size_t la = strlen(a), lb = strlen(b);
	for (const char *p = data; *p; line++) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (line >= from) {
			for (size_t i = 0; i + la <= n; i++) {
				if (memcmp(p + i, a, la) != 0)
					continue;
				size_t j = i + la;
				while (j < n && (p[j] == ' ' || p[j] == '"' || p[j] == '\''))
					j++;
				if (j + lb <= n && memcmp(p + j, b, lb) == 0)
					return line;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

static int ferr(struct ctx *c, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ferr(struct ctx *c, const char *field, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	int line = 0;
	if (c->line && field)
		line = find_line(c->data, c->line, field, ":");
	if (!line)
		line = c->line;
	if (!line && field)
		line = mtb_yaml_key_line(c->data, field);
	char loc[48] = "";
	if (line > 0)
		snprintf(loc, sizeof loc, "line %d: ", line);
	return mtb_errbuf_set(c->eb, MTB_ERR_ARG, "%s: %s%s%sfield '%s': %s", c->origin, loc,
			      c->where, c->where[0] ? ": " : "", field ? field : "?", why);
}

static int copy_name(struct ctx *c, const char *field, char *dst, size_t cap, const char *src)
{
	if (!src || !src[0])
		return ferr(c, field, "must not be empty");
	if (strlen(src) >= cap)
		return ferr(c, field, "'%s' is longer than %zu characters", src, cap - 1);
	for (const char *p = src; *p; p++)
		if (!(((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return ferr(c, field, "'%s': only letters, digits, '_' and '-' are allowed", src);
	snprintf(dst, cap, "%s", src);
	return MTB_OK;
}

static int int_field(struct ctx *c, const char *field, const char *text, long lo, long hi, int *out)
{
	long v;
	if (mtb_yaml_integer(text, &v) != MTB_OK)
		return ferr(c, field, "not an integer: '%s'", text);
	if (v < lo || v > hi)
		return ferr(c, field, "must be within %ld-%ld, got %ld", lo, hi, v);
	*out = (int)v;
	return MTB_OK;
}

/* ---- Bus URIs ---- */
int mtb_bus_cfg_parse_uri(struct mtb_bus_cfg *bus, const char *uri, struct mtb_errbuf *eb)
{
	if (strlen(uri) >= sizeof bus->uri)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "uri too long");
	snprintf(bus->uri, sizeof bus->uri, "%s", uri);
	if (strncmp(uri, "tcp://", 6) == 0) {
		bus->kind = MTB_BUS_TCP;
		const char *hp = uri + 6;
		const char *colon = strrchr(hp, ':');
		if (!colon || colon == hp)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': expected tcp://HOST:PORT", uri);
		size_t hl = (size_t)(colon - hp);
		if (hl >= sizeof bus->host)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': host name too long", uri);
		memcpy(bus->host, hp, hl);
		bus->host[hl] = '\0';
		long port;
		if (mtb_yaml_integer(colon + 1, &port) != MTB_OK || port < 1 || port > 65535)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': port must be 1-65535", uri);
		bus->port = (int)port;
		return MTB_OK;
	}
	if (strncmp(uri, "rtu://", 6) == 0) {
		bus->kind = MTB_BUS_RTU;
		bus->baud = 19200;
		bus->parity = 'E';
		bus->data_bits = 8;
		bus->stop_bits = 1;
		const char *path = uri + 6;
		const char *q = strchr(path, '?');
		size_t pl = q ? (size_t)(q - path) : strlen(path);
		if (pl == 0 || path[0] != '/')
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': expected rtu:///dev/DEVICE[?baud=..&parity=N|E|O&data=7|8&stop=1|2]", uri);
		if (pl >= sizeof bus->device)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': device path too long", uri);
		memcpy(bus->device, path, pl);
		bus->device[pl] = '\0';
		while (q && *q) {
			const char *kv = q + 1;
			q = strchr(kv, '&');
			char item[64];
			size_t il = q ? (size_t)(q - kv) : strlen(kv);
			if (il >= sizeof item)
				return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': parameter too long", uri);
			memcpy(item, kv, il);
			item[il] = '\0';
			char *eq = strchr(item, '=');
			if (!eq)
				return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': parameter '%s' lacks '='", uri, item);
			*eq = '\0';
			const char *val = eq + 1;
			long v = 0;
			if (strcmp(item, "parity") == 0) {
				if (strlen(val) != 1 || !strchr("NEO", val[0]))
					return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': parity must be N, E or O", uri);
				bus->parity = val[0];
			} else if (strcmp(item, "baud") == 0) {
				if (mtb_yaml_integer(val, &v) != MTB_OK || v < 300 || v > 4000000)
					return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': baud must be 300-4000000", uri);
				bus->baud = (int)v;
			} else if (strcmp(item, "data") == 0) {
				if (mtb_yaml_integer(val, &v) != MTB_OK || v < 7 || v > 8)
					return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': data bits must be 7 or 8", uri);
				bus->data_bits = (int)v;
			} else if (strcmp(item, "stop") == 0) {
				if (mtb_yaml_integer(val, &v) != MTB_OK || v < 1 || v > 2)
					return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': stop bits must be 1 or 2", uri);
				bus->stop_bits = (int)v;
			} else {
				return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': unknown parameter '%s' (baud, parity, data, stop)", uri, item);
			}
		}
		return MTB_OK;
	}
	return mtb_errbuf_set(eb, MTB_ERR_ARG, "'%s': scheme must be tcp:// or rtu://", uri);
}

/* t3.5 of Modbus over serial line (V1.02, 2.5.1.1): 3.5 characters of 11 bits, and a fixed
 * 1.75 ms above 19200 Bd. Rounded up to whole milliseconds, at least 2 ms. */
static int default_gap_ms(int baud)
{
	if (baud > 19200)
		return 2;
	double ms = 3.5 * 11.0 * 1000.0 / baud;
	int g = (int)ceil(ms);
	return g < 2 ? 2 : g;
}

static int load_bus(struct ctx *c, const struct bus_yaml *y, struct mtb_bus_cfg *b)
{
	int rc;
	if ((rc = copy_name(c, "name", b->name, sizeof b->name, y->name)) != MTB_OK)
		return rc;
	snprintf(c->where, sizeof c->where, "bus '%s'", b->name);
	c->line = find_line(c->data, 1, "name:", b->name);
	struct mtb_errbuf ue = { { 0 } };
	if (mtb_bus_cfg_parse_uri(b, y->uri, &ue) != MTB_OK)
		return ferr(c, "uri", "%s", ue.msg);
	b->response_timeout_ms = 500;
	b->retries = 2;
	b->gap_ms = b->kind == MTB_BUS_RTU ? default_gap_ms(b->baud) : 0;
	b->poll_ms = 0;
	b->backoff_max_ms = 2000;
	if (y->response_timeout_ms && (rc = int_field(c, "response_timeout_ms", y->response_timeout_ms, 10, 60000, &b->response_timeout_ms)) != MTB_OK)
		return rc;
	if (y->retries && (rc = int_field(c, "retries", y->retries, 0, 10, &b->retries)) != MTB_OK)
		return rc;
	if (y->gap_ms && (rc = int_field(c, "gap_ms", y->gap_ms, 0, 1000, &b->gap_ms)) != MTB_OK)
		return rc;
	if (y->poll_ms && (rc = int_field(c, "poll_ms", y->poll_ms, 0, 60000, &b->poll_ms)) != MTB_OK)
		return rc;
	if (y->backoff_max_ms && (rc = int_field(c, "backoff_max_ms", y->backoff_max_ms, 10, 60000, &b->backoff_max_ms)) != MTB_OK)
		return rc;
	if (y->rs485) {
		if (strcmp(y->rs485, "true") == 0)
			b->rs485 = true;
		else if (strcmp(y->rs485, "false") != 0)
			return ferr(c, "rs485", "must be true or false, got '%s'", y->rs485);
		if (b->rs485 && b->kind != MTB_BUS_RTU)
			return ferr(c, "rs485", "only for rtu:// buses");
	}
	return MTB_OK;
}

static int load_point(struct ctx *c, const struct point_yaml *y, struct mtb_point_cfg *p)
{
	int rc;
	if ((rc = copy_name(c, "name", p->name, sizeof p->name, y->name)) != MTB_OK)
		return rc;
	char save[96];
	int save_line = c->line;
	snprintf(save, sizeof save, "%s", c->where);
	snprintf(c->where, sizeof c->where, "%s: point '%s'", save, p->name);
	int pl = find_line(c->data, c->line, "name:", p->name);
	if (pl)
		c->line = pl;

	int fn = lookup(FN_NAMES, 4, y->function);
	if (fn < 0)
		return ferr(c, "function", "unknown function '%s' (coil, discrete, holding, input)", y->function);
	p->function = (enum mtb_reg_function)fn;
	int addr;
	if ((rc = int_field(c, "address", y->address, 0, 65535, &addr)) != MTB_OK)
		return rc;
	p->address = (uint16_t)addr;
	int t = mtb_reg_type_parse(y->type);
	if (t < 0)
		return ferr(c, "type", "unknown type '%s' (bool, int16, uint16, int32, uint32, int64, uint64, float32, float64)", y->type);
	p->type = (enum mtb_reg_type)t;
	bool bit = p->function == MTB_FN_COIL || p->function == MTB_FN_DISCRETE;
	if (bit && p->type != MTB_REG_BOOL)
		return ferr(c, "type", "a %s holds one bit: type must be bool, got '%s'", y->function, y->type);
	if (!bit && p->type == MTB_REG_BOOL)
		return ferr(c, "type", "bool is for coil or discrete points, not %s registers", y->function);
	if (!bit && addr + mtb_reg_words(p->type) - 1 > 65535)
		return ferr(c, "address", "%s at %d runs past register 65535", y->type, addr);
	p->order = MTB_REG_ABCD;
	if (y->order) {
		int o = mtb_reg_order_parse(y->order);
		if (o < 0)
			return ferr(c, "order", "unknown order '%s' (ABCD, CDAB, BADC, DCBA)", y->order);
		p->order = (enum mtb_reg_order)o;
	}
	p->scale = 1.0;
	if (y->scale) {
		if (mtb_yaml_number(y->scale, &p->scale) != MTB_OK)
			return ferr(c, "scale", "not a number: '%s'", y->scale);
		if (p->scale == 0)
			return ferr(c, "scale", "must not be 0");
		if (bit && p->scale != 1)
			return ferr(c, "scale", "a bool point cannot be scaled");
	}
	if (y->unit) {
		if (strlen(y->unit) >= sizeof p->unit)
			return ferr(c, "unit", "'%s' is longer than %zu characters", y->unit, sizeof p->unit - 1);
		snprintf(p->unit, sizeof p->unit, "%s", y->unit);
	}
	p->writable = false;
	if (y->access) {
		if (strcmp(y->access, "rw") == 0)
			p->writable = true;
		else if (strcmp(y->access, "r") != 0)
			return ferr(c, "access", "must be r or rw, got '%s'", y->access);
		if (p->writable && (p->function == MTB_FN_DISCRETE || p->function == MTB_FN_INPUT))
			return ferr(c, "access", "%s points are read-only in Modbus", y->function);
	}
	snprintf(c->where, sizeof c->where, "%s", save);
	c->line = save_line;
	return MTB_OK;
}

/* Points each class needs: the drivers look them up by these names. */
struct class_need {
	enum mtb_device_class cls;
	const char *required[3];
	const char *writable[2];   /* required ones that must be rw */
};
static const struct class_need NEEDS[] = {
	{ MTB_DEV_VALVE, { "open_cmd" }, { "open_cmd" } },
	{ MTB_DEV_CONTROL_VALVE, { "position_set" }, { "position_set" } },
	{ MTB_DEV_PUMP, { "run" }, { "run" } },
	{ MTB_DEV_REFERENCE, { "flow", "totaliser" }, { 0 } },
	{ MTB_DEV_PRESSURE, { "pressure" }, { 0 } },
	{ MTB_DEV_TEMPERATURE, { "temperature" }, { 0 } },
	{ MTB_DEV_BALANCE, { 0 }, { 0 } },
	{ MTB_DEV_SIM_CLOCK, { "time_us", "advance_us" }, { "advance_us" } },
	{ MTB_DEV_HUMIDITY, { "humidity" }, { 0 } },
};

static int load_device(struct ctx *c, struct mtb_bench_cfg *cfg, const struct device_yaml *y,
		       struct mtb_device_cfg *d)
{
	int rc;
	c->where[0] = '\0';
	c->line = 0;
	if ((rc = copy_name(c, "name", d->name, sizeof d->name, y->name)) != MTB_OK)
		return rc;
	snprintf(c->where, sizeof c->where, "device '%s'", d->name);
	c->line = find_line(c->data, 1, "name:", d->name);
	/* Skip a bus or camera of the same name: the device's line is after "devices:". */
	int dev_line = mtb_yaml_key_line(c->data, "devices");
	if (dev_line && c->line && c->line < dev_line)
		c->line = find_line(c->data, dev_line, "name:", d->name);
	for (int i = 0; i < cfg->n_devices; i++)
		if (strcmp(cfg->devices[i].name, d->name) == 0)
			return ferr(c, "name", "device '%s' is defined twice", d->name);
	int cls = lookup(CLASS_NAMES, sizeof CLASS_NAMES / sizeof CLASS_NAMES[0], y->cls);
	if (cls < 0)
		return ferr(c, "class", "unknown class '%s' (valve, control-valve, pump, reference-meter, pressure, temperature, balance, sim-clock, humidity)", y->cls);
	d->cls = (enum mtb_device_class)cls;
	d->bus = -1;
	d->timeout_ms = 1000;

	if (d->cls == MTB_DEV_BALANCE) {
		if (!y->uri)
			return ferr(c, "uri", "a balance needs uri: serial:///dev/DEVICE?baud=9600");
		if (strncmp(y->uri, "serial://", 9) != 0 || y->uri[9] != '/')
			return ferr(c, "uri", "'%s': expected serial:///dev/DEVICE[?baud=..&parity=..&data=..&stop=..]", y->uri);
		if (strlen(y->uri) >= sizeof d->uri)
			return ferr(c, "uri", "too long");
		snprintf(d->uri, sizeof d->uri, "%s", y->uri);
		const char *proto = y->protocol ? y->protocol : "sics";
		if (strcmp(proto, "sics") != 0 && strcmp(proto, "sbi") != 0 && strcmp(proto, "line") != 0)
			return ferr(c, "protocol", "unknown balance protocol '%s' (sics, sbi, line)", proto);
		snprintf(d->protocol, sizeof d->protocol, "%s", proto);
		if (y->unit) {
			if (strcmp(proto, "sbi") != 0)
				return ferr(c, "unit", "only an SBI balance has unit (MT-SICS and the line protocol send theirs)");
			if (strcmp(y->unit, "mg") != 0 && strcmp(y->unit, "g") != 0 && strcmp(y->unit, "kg") != 0)
				return ferr(c, "unit", "unknown unit '%s' (mg, g, kg)", y->unit);
			snprintf(d->unit, sizeof d->unit, "%s", y->unit);
		}
		if (y->timeout_ms && (rc = int_field(c, "timeout_ms", y->timeout_ms, 10, 60000, &d->timeout_ms)) != MTB_OK)
			return rc;
		if (y->bus || y->unit_id || y->points_count || y->response_timeout_ms)
			return ferr(c, y->bus ? "bus" : y->unit_id ? "unit_id" : y->points_count ? "points" : "response_timeout_ms", "a balance is on a serial line, not a Modbus bus");
		return MTB_OK;
	}
	if (y->uri || y->protocol || y->unit)
		return ferr(c, y->uri ? "uri" : y->protocol ? "protocol" : "unit", "only a balance has this field");
	if (!y->bus)
		return ferr(c, "bus", "missing (the name of one of the buses)");
	for (int i = 0; i < cfg->n_buses; i++)
		if (strcmp(cfg->buses[i].name, y->bus) == 0)
			d->bus = i;
	if (d->bus < 0)
		return ferr(c, "bus", "no bus named '%s'", y->bus);
	if (!y->unit_id)
		return ferr(c, "unit_id", "missing");
	int max_unit = cfg->buses[d->bus].kind == MTB_BUS_RTU ? 247 : 255;
	if ((rc = int_field(c, "unit_id", y->unit_id, cfg->buses[d->bus].kind == MTB_BUS_RTU ? 1 : 0, max_unit, &d->unit_id)) != MTB_OK)
		return rc;
	if (y->certificate) {
		if (d->cls != MTB_DEV_REFERENCE)
			return ferr(c, "certificate", "only a reference-meter has a certificate");
		if (strlen(y->certificate) >= sizeof d->certificate)
			return ferr(c, "certificate", "too long");
		snprintf(d->certificate, sizeof d->certificate, "%s", y->certificate);
	}
	if (y->pulses_per_l) {
		if (d->cls != MTB_DEV_REFERENCE)
			return ferr(c, "pulses_per_l", "only a reference-meter has pulses_per_l");
		if (mtb_yaml_number(y->pulses_per_l, &d->pulses_per_l) != MTB_OK || !(d->pulses_per_l > 0))
			return ferr(c, "pulses_per_l", "must be a number > 0, got '%s'", y->pulses_per_l);
	}
	if (y->timeout_ms)
		return ferr(c, "timeout_ms", "only a balance has timeout_ms (a Modbus device has response_timeout_ms)");
	if (y->response_timeout_ms &&
	    (rc = int_field(c, "response_timeout_ms", y->response_timeout_ms, 10, 60000, &d->response_timeout_ms)) != MTB_OK)
		return rc;
	if (y->points_count > MTB_BENCH_MAX_POINTS)
		return ferr(c, "points", "at most %d points per device", MTB_BENCH_MAX_POINTS);
	for (unsigned i = 0; i < y->points_count; i++) {
		struct mtb_point_cfg *p = &d->points[d->n_points];
		if ((rc = load_point(c, &y->points[i], p)) != MTB_OK)
			return rc;
		for (int j = 0; j < d->n_points; j++)
			if (strcmp(d->points[j].name, p->name) == 0)
				return ferr(c, "points", "point '%s' is defined twice", p->name);
		d->n_points++;
	}
	for (size_t k = 0; k < sizeof NEEDS / sizeof NEEDS[0]; k++) {
		if (NEEDS[k].cls != d->cls)
			continue;
		for (int r = 0; r < 3 && NEEDS[k].required[r]; r++)
			if (mtb_bench_cfg_point(d, NEEDS[k].required[r]) < 0)
				return ferr(c, "points", "a %s needs a point named '%s'", y->cls, NEEDS[k].required[r]);
		for (int r = 0; r < 2 && NEEDS[k].writable[r]; r++)
			if (!d->points[mtb_bench_cfg_point(d, NEEDS[k].writable[r])].writable)
				return ferr(c, "access", "point '%s' of a %s must be access: rw", NEEDS[k].writable[r], y->cls);
	}
	return MTB_OK;
}

static int validate(struct ctx *c, const struct bench_yaml *y, struct mtb_bench_cfg *cfg)
{
	int rc;
	if (strlen(y->name) == 0 || strlen(y->name) >= sizeof cfg->name)
		return ferr(c, "name", "must be 1-%zu characters", sizeof cfg->name - 1);
	snprintf(cfg->name, sizeof cfg->name, "%s", y->name);
	if (y->buses_count > MTB_BENCH_MAX_BUSES)
		return ferr(c, "buses", "at most %d buses", MTB_BENCH_MAX_BUSES);
	for (unsigned i = 0; i < y->buses_count; i++) {
		struct mtb_bus_cfg *b = &cfg->buses[cfg->n_buses];
		if ((rc = load_bus(c, &y->buses[i], b)) != MTB_OK)
			return rc;
		for (int j = 0; j < cfg->n_buses; j++)
			if (strcmp(cfg->buses[j].name, b->name) == 0)
				return ferr(c, "name", "bus '%s' is defined twice", b->name);
		cfg->n_buses++;
	}
	c->where[0] = '\0';
	c->line = 0;
	if (y->devices_count > MTB_BENCH_MAX_DEVICES)
		return ferr(c, "devices", "at most %d devices", MTB_BENCH_MAX_DEVICES);
	for (unsigned i = 0; i < y->devices_count; i++) {
		if ((rc = load_device(c, cfg, &y->devices[i], &cfg->devices[cfg->n_devices])) != MTB_OK)
			return rc;
		cfg->n_devices++;
	}
	c->where[0] = '\0';
	c->line = 0;
	cfg->bus_deadline_ms = 3000;
	if (y->safety) {
		c->line = mtb_yaml_key_line(c->data, "safety");
		snprintf(c->where, sizeof c->where, "safety");
		if (y->safety->bus_deadline_ms &&
		    (rc = int_field(c, "bus_deadline_ms", y->safety->bus_deadline_ms, 100, 600000, &cfg->bus_deadline_ms)) != MTB_OK)
			return rc;
		if (y->safety->safe_state_count > MTB_BENCH_MAX_SAFE)
			return ferr(c, "safe_state", "at most %d writes", MTB_BENCH_MAX_SAFE);
		int base = c->line;
		for (unsigned i = 0; i < y->safety->safe_state_count; i++) {
			const struct safe_yaml *s = &y->safety->safe_state[i];
			struct mtb_safe_write *w = &cfg->safe_state[cfg->n_safe];
			snprintf(c->where, sizeof c->where, "safety: safe_state[%u]", i);
			c->line = find_line(c->data, base, "device:", s->device);
			w->device = mtb_bench_cfg_device(cfg, s->device);
			if (w->device < 0)
				return ferr(c, "device", "no device named '%s'", s->device);
			const struct mtb_device_cfg *d = &cfg->devices[w->device];
			w->point = mtb_bench_cfg_point(d, s->point);
			if (w->point < 0)
				return ferr(c, "point", "device '%s' has no point '%s'", s->device, s->point);
			const struct mtb_point_cfg *p = &d->points[w->point];
			if (!p->writable)
				return ferr(c, "point", "'%s.%s' is not writable (access: rw)", s->device, s->point);
			if (mtb_yaml_number(s->value, &w->value) != MTB_OK)
				return ferr(c, "value", "not a number: '%s'", s->value);
			struct mtb_reg_raw raw;
			if (mtb_reg_from_double(p->type, w->value, p->scale, &raw) != MTB_OK)
				return ferr(c, "value", "%s does not fit %s.%s (%s, scale %g)", s->value, s->device,
					    s->point, mtb_reg_type_name(p->type), p->scale);
			cfg->n_safe++;
		}
	}
	c->where[0] = '\0';
	c->line = 0;
	if (y->cameras_count > MTB_BENCH_MAX_CAMERAS)
		return ferr(c, "cameras", "at most %d cameras", MTB_BENCH_MAX_CAMERAS);
	int cam_base = mtb_yaml_key_line(c->data, "cameras");
	for (unsigned i = 0; i < y->cameras_count; i++) {
		struct mtb_camera_cfg *k = &cfg->cameras[cfg->n_cameras];
		snprintf(c->where, sizeof c->where, "cameras[%u]", i);
		c->line = cam_base;
		if ((rc = copy_name(c, "name", k->name, sizeof k->name, y->cameras[i].name)) != MTB_OK)
			return rc;
		snprintf(c->where, sizeof c->where, "camera '%s'", k->name);
		c->line = find_line(c->data, cam_base ? cam_base : 1, "name:", k->name);
		if ((rc = int_field(c, "position", y->cameras[i].position, 1, 1000, &k->position)) != MTB_OK)
			return rc;
		const char *u = y->cameras[i].uri;
		if (strlen(u) >= sizeof k->uri)
			return ferr(c, "uri", "too long");
		if (strncmp(u, "http://", 7) != 0 && strncmp(u, "v4l2://", 7) != 0 &&
		    strncmp(u, "dir://", 6) != 0 && strncmp(u, "sim:", 4) != 0)
			return ferr(c, "uri", "'%s': scheme must be http://, v4l2://, dir:// or sim:", u);
		snprintf(k->uri, sizeof k->uri, "%s", u);
		for (int j = 0; j < cfg->n_cameras; j++)
			if (strcmp(cfg->cameras[j].name, k->name) == 0)
				return ferr(c, "name", "camera '%s' is defined twice", k->name);
		cfg->n_cameras++;
	}
	return MTB_OK;
}

int mtb_bench_cfg_parse(const char *data, size_t len, const char *origin,
			struct mtb_bench_cfg **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	struct bench_yaml *y;
	int rc = mtb_yaml_load_data(data, len, &BENCH_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	struct mtb_bench_cfg *cfg = calloc(1, sizeof *cfg);
	if (!cfg) {
		mtb_yaml_free(&BENCH_SCHEMA, y);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "%s: out of memory", origin);
	}
	snprintf(cfg->origin, sizeof cfg->origin, "%s", origin);
	struct ctx c = { .data = data, .origin = origin, .eb = eb };
	rc = validate(&c, y, cfg);
	mtb_yaml_free(&BENCH_SCHEMA, y);
	if (rc != MTB_OK) {
		free(cfg);
		return rc;
	}
	*out = cfg;
	return MTB_OK;
}

int mtb_bench_cfg_load(const char *path_or_name, struct mtb_bench_cfg **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	char path[1024], *buf;
	size_t len;
	int rc = mtb_config_read("benches", path_or_name, path, sizeof path, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_bench_cfg_parse(buf, len, path, out, eb);
	free(buf);
	return rc;
}

void mtb_bench_cfg_destroy(struct mtb_bench_cfg *cfg)
{
	free(cfg);
}

int mtb_bench_cfg_device(const struct mtb_bench_cfg *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_devices; i++)
		if (strcmp(cfg->devices[i].name, name) == 0)
			return i;
	return -1;
}

int mtb_bench_cfg_point(const struct mtb_device_cfg *dev, const char *name)
{
	for (int i = 0; i < dev->n_points; i++)
		if (strcmp(dev->points[i].name, name) == 0)
			return i;
	return -1;
}

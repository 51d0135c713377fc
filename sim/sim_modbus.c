/* The register map of the simulated bench (docs/sim-register-map.md), built from the plant on
 * every request, and the Modbus TCP/RTU framing helpers. */
#include "sim/sim_modbus.h"

#include "sim/can_sim.h"

#include <math.h>
#include <string.h>

enum order { ABCD, CDAB, BADC, DCBA };

/* Registers and bits of one unit at one instant. */
struct image {
	uint8_t coils[4], discrete[4];
	uint16_t holding[8], input[8];
	int n_coils, n_discrete, n_holding, n_input;
};

/* 32-bit value into two registers. Bytes A B C D are the value big-endian; the order names the
 * bytes as they appear on the wire (docs/bench-config.md). */
static void put32(uint16_t *r, uint32_t v, enum order o)
{
	uint8_t a = (uint8_t)(v >> 24), b = (uint8_t)(v >> 16), c = (uint8_t)(v >> 8), d = (uint8_t)v;
	switch (o) {
	case ABCD: r[0] = (uint16_t)(a << 8 | b); r[1] = (uint16_t)(c << 8 | d); break;
	case CDAB: r[0] = (uint16_t)(c << 8 | d); r[1] = (uint16_t)(a << 8 | b); break;
	case BADC: r[0] = (uint16_t)(b << 8 | a); r[1] = (uint16_t)(d << 8 | c); break;
	case DCBA: r[0] = (uint16_t)(d << 8 | c); r[1] = (uint16_t)(b << 8 | a); break;
	}
}

/* 64-bit values are ABCD (big-endian words, big-endian bytes) everywhere on this bench. */
static void put64_abcd(uint16_t *r, uint64_t v)
{
	for (int i = 0; i < 4; i++)
		r[i] = (uint16_t)(v >> (48 - 16 * i));
}

static uint32_t f32_bits(double x)
{
	float f = (float)x;
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static uint64_t f64_bits(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	return u;
}

/* Scaled unsigned 16-bit value, clamped to the register's range. */
static uint16_t u16_scaled(double v, double scale)
{
	double r = round(v / scale);
	if (r < 0)
		return 0;
	if (r > 65535)
		return 65535;
	return (uint16_t)r;
}

static int16_t s16_scaled(double v, double scale)
{
	double r = round(v / scale);
	if (r < -32768)
		return -32768;
	if (r > 32767)
		return 32767;
	return (int16_t)r;
}

bool mtb_sim_unit_exists(int unit)
{
	switch (unit) {
	case 1: case 2: case 3: case 10: case 20: case 21: case 30: case 31: case 100:
		return true;
	case 40: case 41: case 42: case 43:   /* the can's, when the configuration has one */
		return true;
	default:
		return false;
	}
}

static void build_image(const struct mtb_sim_plant *p, int unit, uint16_t last_advance[2], struct image *im)
{
	struct mtb_sim_readings r;
	mtb_sim_plant_read(p, &r);
	memset(im, 0, sizeof *im);
	switch (unit) {
	case 100:   /* lockstep clock */
		put64_abcd(im->holding, (uint64_t)r.t_us);
		im->holding[4] = last_advance[0];
		im->holding[5] = last_advance[1];
		im->n_holding = 6;
		break;
	case 1:     /* pump (VFD) */
		im->coils[0] = r.pump_run;
		im->n_coils = 1;
		im->holding[0] = u16_scaled(r.pump_set_hz, 0.01);
		im->n_holding = 1;
		im->input[0] = u16_scaled(r.pump_hz, 0.01);
		im->n_input = 1;
		im->discrete[0] = r.pump_fault;
		im->n_discrete = 1;
		break;
	case 2:     /* inlet on/off valve */
		im->coils[0] = r.inlet_open_cmd;
		im->n_coils = 1;
		im->discrete[0] = r.inlet_is_open;
		im->discrete[1] = r.inlet_is_closed;
		im->n_discrete = 2;
		break;
	case 3:     /* control valve */
		im->holding[0] = u16_scaled(r.cv_set_pct, 0.01);
		im->n_holding = 1;
		im->input[0] = u16_scaled(r.cv_pct, 0.01);
		im->n_input = 1;
		break;
	case 10: {  /* reference meter */
		put32(&im->input[0], f32_bits(r.ref_flow_lph), CDAB);
		put64_abcd(&im->input[2], f64_bits((double)r.ref_total_ul / 1e6));
		/* 10 000 pulses per litre = one per 100 uL; the counter wraps like a real one */
		put32(&im->input[6], (uint32_t)((uint64_t)(r.ref_total_ul / 100) & 0xffffffffu), CDAB);
		im->n_input = 8;
		break;
	}
	case 20:
		put32(im->input, f32_bits(r.p_inlet_kpa), BADC);
		im->n_input = 2;
		break;
	case 21:
		put32(im->input, f32_bits(r.p_outlet_kpa), BADC);
		im->n_input = 2;
		break;
	case 30:
		im->input[0] = (uint16_t)s16_scaled(r.t_ref_c, 0.01);
		im->n_input = 1;
		break;
	case 31:
		put32(im->input, f32_bits(r.t_outlet_c), DCBA);
		im->n_input = 2;
		break;
	case 40: case 41: {   /* the can's fill and drain valves (solenoids: at once) */
		const struct mtb_sim_can *can = mtb_sim_plant_can(p);
		bool open = unit == 40 ? mtb_sim_can_fill_open(can) : mtb_sim_can_drain_open(can);
		im->coils[0] = open;
		im->n_coils = 1;
		im->discrete[0] = open;
		im->discrete[1] = !open;
		im->n_discrete = 2;
		break;
	}
	case 42:              /* the can's water temperature */
		im->input[0] = (uint16_t)s16_scaled(mtb_sim_can_config(mtb_sim_plant_can(p))->water_c, 0.01);
		im->n_input = 1;
		break;
	case 43: {            /* ambient air at the balance: temperature, pressure, humidity */
		const struct mtb_sim_can_cfg *c = mtb_sim_can_config(mtb_sim_plant_can(p));
		im->input[0] = (uint16_t)s16_scaled(c->air_c, 0.01);
		im->input[1] = u16_scaled(c->p_hpa, 0.1);
		im->input[2] = u16_scaled(c->rh_pct, 0.01);
		im->n_input = 3;
		break;
	}
	}
}

size_t mtb_sim_modbus_exception(uint8_t function, int code, uint8_t *rsp)
{
	rsp[0] = (uint8_t)(function | 0x80);
	rsp[1] = (uint8_t)code;
	return 2;
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Applies a write of holding registers [addr, addr+n) of unit; returns an exception code or 0.
 * Everything is checked before anything is applied. */
static int write_holding(struct mtb_sim_plant *p, bool lockstep, int unit, unsigned addr, unsigned n,
			 const uint16_t *v, uint16_t last_advance[2])
{
	switch (unit) {
	case 1:
		if (addr != 0 || n != 1)
			return MTB_MB_EX_ILLEGAL_ADDRESS;
		return mtb_sim_plant_set_pump_hz(p, v[0] * 0.01) == MTB_OK ? 0 : MTB_MB_EX_ILLEGAL_VALUE;
	case 3:
		if (addr != 0 || n != 1)
			return MTB_MB_EX_ILLEGAL_ADDRESS;
		return mtb_sim_plant_set_cv_pct(p, v[0] * 0.01) == MTB_OK ? 0 : MTB_MB_EX_ILLEGAL_VALUE;
	case 100:
		/* advance_us is one uint32: both of its registers in one write */
		if (addr != 4 || n != 2)
			return MTB_MB_EX_ILLEGAL_ADDRESS;
		/* spec 7, code 01: the server is in the wrong state for this request */
		if (!lockstep)
			return MTB_MB_EX_ILLEGAL_FUNCTION;
		last_advance[0] = v[0];
		last_advance[1] = v[1];
		mtb_sim_plant_advance(p, (int64_t)((uint32_t)v[0] << 16 | v[1]));
		return 0;
	default:
		return MTB_MB_EX_ILLEGAL_ADDRESS;
	}
}

static int write_coils(struct mtb_sim_plant *p, int unit, unsigned addr, unsigned n, const uint8_t *bits)
{
	if (addr != 0 || n != 1)
		return MTB_MB_EX_ILLEGAL_ADDRESS;
	bool on = bits[0] & 1;
	if (unit == 40)
		mtb_sim_can_set_fill(mtb_sim_plant_can(p), on);
	else if (unit == 41)
		mtb_sim_can_set_drain(mtb_sim_plant_can(p), on);
	else if (unit == 1)
		mtb_sim_plant_set_pump_run(p, on);
	else if (unit == 2)
		mtb_sim_plant_set_inlet_open(p, on);
	else
		return MTB_MB_EX_ILLEGAL_ADDRESS;
	return 0;
}

int mtb_sim_modbus_pdu(struct mtb_sim_plant *p, struct mtb_sim_modbus_state *st, int unit,
		       const uint8_t *req, size_t req_len, uint8_t *rsp, size_t *rsp_len)
{
	bool lockstep = st->lockstep;
	if (!mtb_sim_unit_exists(unit) || (unit >= 40 && unit <= 43 && !mtb_sim_plant_can(p)))
		return MTB_ERR_NOTFOUND;
	if (req_len < 1)
		return MTB_ERR_PROTO;
	uint16_t *last_advance = st->last_advance;
	uint8_t fc = req[0];
	struct image im;
	*rsp_len = 0;
#define EXC(code) \
	do { \
		*rsp_len = mtb_sim_modbus_exception(fc, (code), rsp); \
		return MTB_OK; \
	} while (0)
	switch (fc) {
	case 0x01: case 0x02: {   /* read coils / discrete inputs */
		if (req_len != 5)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		unsigned addr = be16(req + 1), n = be16(req + 3);
		if (n < 1 || n > 2000)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		build_image(p, unit, last_advance, &im);
		const uint8_t *bits = fc == 1 ? im.coils : im.discrete;
		unsigned have = (unsigned)(fc == 1 ? im.n_coils : im.n_discrete);
		if (addr + n > have)
			EXC(MTB_MB_EX_ILLEGAL_ADDRESS);
		unsigned nbytes = (n + 7) / 8;
		rsp[0] = fc;
		rsp[1] = (uint8_t)nbytes;
		memset(rsp + 2, 0, nbytes);
		for (unsigned i = 0; i < n; i++)
			if (bits[addr + i])
				rsp[2 + i / 8] |= (uint8_t)(1u << (i % 8));
		*rsp_len = 2 + nbytes;
		return MTB_OK;
	}
	case 0x03: case 0x04: {   /* read holding / input registers */
		if (req_len != 5)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		unsigned addr = be16(req + 1), n = be16(req + 3);
		if (n < 1 || n > 125)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		build_image(p, unit, last_advance, &im);
		const uint16_t *regs = fc == 3 ? im.holding : im.input;
		unsigned have = (unsigned)(fc == 3 ? im.n_holding : im.n_input);
		if (addr + n > have)
			EXC(MTB_MB_EX_ILLEGAL_ADDRESS);
		rsp[0] = fc;
		rsp[1] = (uint8_t)(2 * n);
		for (unsigned i = 0; i < n; i++) {
			rsp[2 + 2 * i] = (uint8_t)(regs[addr + i] >> 8);
			rsp[3 + 2 * i] = (uint8_t)regs[addr + i];
		}
		*rsp_len = 2 + 2 * n;
		return MTB_OK;
	}
	case 0x05: {              /* write single coil: 0xFF00 on, 0x0000 off (spec 6.5) */
		if (req_len != 5)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		unsigned addr = be16(req + 1), v = be16(req + 3);
		if (v != 0xFF00 && v != 0x0000)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		uint8_t bit = v == 0xFF00;
		int ex = write_coils(p, unit, addr, 1, &bit);
		if (ex)
			EXC(ex);
		memcpy(rsp, req, 5);
		*rsp_len = 5;
		return MTB_OK;
	}
	case 0x06: {              /* write single register */
		if (req_len != 5)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		unsigned addr = be16(req + 1);
		uint16_t v = be16(req + 3);
		int ex = write_holding(p, lockstep, unit, addr, 1, &v, last_advance);
		if (ex)
			EXC(ex);
		memcpy(rsp, req, 5);
		*rsp_len = 5;
		return MTB_OK;
	}
	case 0x0F: {              /* write multiple coils */
		if (req_len < 6)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		unsigned addr = be16(req + 1), n = be16(req + 3), nbytes = req[5];
		if (n < 1 || n > 1968 || nbytes != (n + 7) / 8 || req_len != 6 + nbytes)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		int ex = write_coils(p, unit, addr, n, req + 6);
		if (ex)
			EXC(ex);
		memcpy(rsp, req, 5);
		*rsp_len = 5;
		return MTB_OK;
	}
	case 0x10: {              /* write multiple registers */
		if (req_len < 6)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		unsigned addr = be16(req + 1), n = be16(req + 3), nbytes = req[5];
		if (n < 1 || n > 123 || nbytes != 2 * n || req_len != 6 + nbytes)
			EXC(MTB_MB_EX_ILLEGAL_VALUE);
		uint16_t v[123];
		for (unsigned i = 0; i < n; i++)
			v[i] = be16(req + 6 + 2 * i);
		int ex = write_holding(p, lockstep, unit, addr, n, v, last_advance);
		if (ex)
			EXC(ex);
		memcpy(rsp, req, 5);
		*rsp_len = 5;
		return MTB_OK;
	}
	default:
		EXC(MTB_MB_EX_ILLEGAL_FUNCTION);
	}
#undef EXC
}

/* ---- framing --------------------------------------------------------------------------------- */

uint16_t mtb_sim_crc16(const uint8_t *data, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

int mtb_sim_tcp_frame_len(const uint8_t *buf, size_t len, size_t *frame_len)
{
	if (len < 7)
		return MTB_ERR_STATE;
	if (be16(buf + 2) != 0)
		return MTB_ERR_PROTO;
	unsigned n = be16(buf + 4);   /* unit id + PDU */
	if (n < 2 || n > 1 + MTB_SIM_PDU_MAX)
		return MTB_ERR_PROTO;
	if (len < 6 + (size_t)n)
		return MTB_ERR_STATE;
	*frame_len = 6 + n;
	return MTB_OK;
}

int mtb_sim_rtu_request_len(const uint8_t *buf, size_t len, size_t *frame_len)
{
	if (len < 2)
		return MTB_ERR_STATE;
	switch (buf[1]) {
	case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06:
		*frame_len = 8;   /* address, function, 4 data bytes, CRC */
		return MTB_OK;
	case 0x0F: case 0x10:
		if (len < 7)
			return MTB_ERR_STATE;
		*frame_len = 9 + (size_t)buf[6];
		return MTB_OK;
	default:
		return MTB_ERR_NOTSUP;
	}
}

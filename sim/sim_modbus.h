/* meterbench sim: the Modbus face of the simulated bench (docs/sim-register-map.md) and the
 * framing of Modbus TCP and RTU. Pure functions over byte buffers, no I/O, so that they are
 * unit-tested and fuzzed (tests/fuzz/fuzz_sim_modbus.c). Modbus Application Protocol
 * Specification V1.1b3 (function codes, exception codes) and Modbus over Serial Line V1.02
 * (RTU framing, CRC-16 polynomial 0xA001 reflected, initial 0xFFFF, low byte first). */
#ifndef MTB_SIM_MODBUS_H
#define MTB_SIM_MODBUS_H

#include "sim/sim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest PDU (function code + data), Modbus spec 4.1. */
#define MTB_SIM_PDU_MAX 253

/* Exception codes (spec 7). */
enum {
	MTB_MB_EX_ILLEGAL_FUNCTION = 1,
	MTB_MB_EX_ILLEGAL_ADDRESS = 2,
	MTB_MB_EX_ILLEGAL_VALUE = 3,
	MTB_MB_EX_DEVICE_FAILURE = 4,
	MTB_MB_EX_GATEWAY_TARGET = 11,
};

/* The unit ids that exist on the simulated bench. */
bool mtb_sim_unit_exists(int unit);

/* What the face keeps between requests besides the plant. */
struct mtb_sim_modbus_state {
	bool lockstep;              /* advance_us writes are accepted only in lockstep */
	uint16_t last_advance[2];   /* read back from holding 4-5 of unit 100 */
};

/* Serves one request PDU addressed to `unit`: reads build the registers from the plant at its
 * current instant, writes command it; in lockstep a write of advance_us (unit 100) advances the
 * plant before the reply. rsp (capacity MTB_SIM_PDU_MAX) gets the reply PDU, normal or
 * exception. MTB_ERR_NOTFOUND when the unit does not exist, MTB_ERR_PROTO for an empty PDU
 * (rsp untouched in both cases). */
int mtb_sim_modbus_pdu(struct mtb_sim_plant *p, struct mtb_sim_modbus_state *st, int unit,
		       const uint8_t *req, size_t req_len, uint8_t *rsp, size_t *rsp_len);

/* Exception reply PDU for a request's function code. */
size_t mtb_sim_modbus_exception(uint8_t function, int code, uint8_t *rsp);

/* CRC-16/MODBUS of n bytes; on the wire low byte first. */
uint16_t mtb_sim_crc16(const uint8_t *data, size_t n);

/* Modbus TCP: given bytes received so far, MTB_OK with the whole ADU's length (MBAP header of
 * 7 bytes + PDU) when complete, MTB_ERR_STATE when more bytes are needed, MTB_ERR_PROTO when
 * the header is not Modbus (protocol id not 0, length outside 2-254). */
int mtb_sim_tcp_frame_len(const uint8_t *buf, size_t len, size_t *frame_len);

/* Modbus RTU request: MTB_OK with the frame's length (address + PDU + CRC) when the function
 * code fixes it and enough bytes are there to know it; MTB_ERR_STATE when more bytes are
 * needed; MTB_ERR_NOTSUP for a function whose length is not known here (delimit by silence). */
int mtb_sim_rtu_request_len(const uint8_t *buf, size_t len, size_t *frame_len);

#ifdef __cplusplus
}
#endif
#endif

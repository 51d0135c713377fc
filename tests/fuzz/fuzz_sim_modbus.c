/* Fuzz target: the simulator's Modbus face. The input is cut into Modbus TCP frames (as the
 * server does) and each is served by the register map; the same bytes also go through the RTU
 * length rule. Replies must be well-formed PDUs. */
#include "sim/sim_modbus.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_sim_config *c = malloc(sizeof *c);
	if (!c)
		return 0;
	mtb_sim_config_defaults(c);
	c->n_meters = 2;
	struct mtb_sim_plant *p = NULL;
	struct mtb_errbuf eb;
	if (mtb_sim_plant_create(c, &p, &eb) != MTB_OK)
		abort();
	struct mtb_sim_modbus_state st = { .lockstep = true };
	size_t off = 0, fl;
	while (off < size && mtb_sim_tcp_frame_len(data + off, size - off, &fl) == MTB_OK) {
		uint8_t rsp[MTB_SIM_PDU_MAX];
		size_t rl = 0;
		int rc = mtb_sim_modbus_pdu(p, &st, data[off + 6], data + off + 7, fl - 7, rsp, &rl);
		if (rc == MTB_OK) {
			if (rl < 2 || rl > MTB_SIM_PDU_MAX)
				abort();
			if ((rsp[0] & 0x7f) != data[off + 7])
				abort();   /* a reply answers the request's function */
		}
		off += fl;
	}
	for (size_t i = 0; i < size; i++) {
		if (mtb_sim_rtu_request_len(data + i, size - i, &fl) == MTB_OK && (fl < 8 || fl > 264))
			abort();
	}
	(void)mtb_sim_crc16(data, size);
	mtb_sim_plant_destroy(p);
	free(c);
	return 0;
}

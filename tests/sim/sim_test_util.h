// Shared helpers of the simulator tests.
#pragma once

#include "sim/sim.h"

#include <cstdio>
#include <memory>

// A configuration built in code: documented defaults, n meters with simple curves, a reference
// certificate curve like configs/references/sim-ref-em-dn25.yaml.
inline std::unique_ptr<mtb_sim_config> test_config(int n_meters, uint64_t seed = 7)
{
	auto c = std::make_unique<mtb_sim_config>();
	mtb_sim_config_defaults(c.get());
	c->seed = seed;
	c->reference_curve.n = 2;
	c->reference_curve.pt[0] = { 10, 0.12, 0.08 };
	c->reference_curve.pt[1] = { 1000, 0.02, 0.05 };
	c->n_meters = n_meters;
	for (int i = 0; i < n_meters; i++) {
		mtb_sim_meter_config &m = c->meters[i];
		std::snprintf(m.serial, sizeof m.serial, "T-%02d", i + 1);
		std::snprintf(m.type_name, sizeof m.type_name, "dn15-r160-c2");
		m.true_error.n = 2;
		m.true_error.pt[0] = { 15.6, -3.0 + i, 0 };
		m.true_error.pt[1] = { 2500, 0.5 + 0.1 * i, 0 };
	}
	return c;
}

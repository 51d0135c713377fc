// Loading of simulator configurations and reference certificates (docs/sim.md).
#include "sim/sim.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <unistd.h>
#include <cstdlib>

namespace {

int parse(const std::string &y, mtb_sim_config *c, mtb_errbuf *eb)
{
	return mtb_sim_config_parse(y.data(), y.size(), "t.yaml", c, eb);
}

TEST(SimConfig, DemoLoadsWithTypesAndCertificate)
{
	auto *c = new mtb_sim_config;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_sim_config_load("demo", c, &eb), MTB_OK) << eb.msg;
	EXPECT_STREQ(c->name, "demo");
	EXPECT_EQ(c->n_meters, 10);
	EXPECT_STREQ(c->reference_certificate, "sim-ref-em-dn25");
	ASSERT_EQ(c->reference_curve.n, 4);
	EXPECT_DOUBLE_EQ(c->reference_curve.pt[0].flow_lph, 10);
	EXPECT_DOUBLE_EQ(c->reference_curve.pt[0].error_pct, 0.12);
	EXPECT_DOUBLE_EQ(c->reference_curve.pt[0].u_exp_pct, 0.08);
	for (int i = 0; i < 10; i++) {
		EXPECT_STREQ(c->meters[i].type.name, "dn15-r160-c2");
		EXPECT_EQ(c->meters[i].type.accuracy_class, 2);
	}
	// what the demo promises in its comments: failures at Q1 (MPE 5 %) and at Q3 (MPE 2 %)
	int fail_q1 = 0, fail_q3 = 0;
	for (int i = 0; i < 10; i++) {
		const mtb_sim_meter_config &m = c->meters[i];
		double q1 = m.type.flow.q1_lph * 1.05, q3 = m.type.flow.q3_lph;
		if (std::abs(mtb_sim_curve_error_pct(&m.true_error, q1)) > 5)
			fail_q1++;
		if (std::abs(mtb_sim_curve_error_pct(&m.true_error, q3)) > 2)
			fail_q3++;
	}
	EXPECT_EQ(fail_q1, 3);
	EXPECT_EQ(fail_q3, 1);
	delete c;
}

TEST(SimConfig, PlantCamerasFaultsAndDefaults)
{
	mtb_sim_config c;
	mtb_errbuf eb = {};
	ASSERT_EQ(parse("seed: 5\nplant:\n  flow_tau_s: 2.5\n  air_volume_ml: 0\ncameras:\n  fps: 2\n  nuisance: 0.4\n"
			"faults:\n  - {kind: late-reply, unit: 10, delay_ms: 800, at_s: 12.5, duration_s: 3}\n"
			"  - {kind: camera-dropout, position: 4, count: 2}\n"
			"meters:\n  - serial: A\n    type: dn15-r160-c2\n    true_error: [[15.6, -3.0], [2500, 0.8]]\n"
			"    start_volume_l: 123.456789\n    face: blue\n",
			&c, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(c.seed, 5u);
	EXPECT_DOUBLE_EQ(c.plant.flow_tau_s, 2.5);
	EXPECT_DOUBLE_EQ(c.plant.air_volume_ml, 0);
	EXPECT_DOUBLE_EQ(c.plant.pump_shutoff_head_kpa, 700);   // default kept
	EXPECT_EQ(c.camera.fps, 2);
	EXPECT_EQ(c.camera.width, 640);
	EXPECT_DOUBLE_EQ(c.camera.nuisance, 0.4);
	EXPECT_STREQ(c.meters[0].face, "blue");
	ASSERT_EQ(c.n_faults, 2);
	EXPECT_EQ(c.faults[0].kind, MTB_SIM_FAULT_LATE_REPLY);
	EXPECT_EQ(c.faults[0].unit, 10);
	EXPECT_EQ(c.faults[0].delay_ms, 800);
	EXPECT_EQ(c.faults[0].at_us, 12500000);
	EXPECT_EQ(c.faults[0].duration_us, 3000000);
	EXPECT_EQ(c.faults[0].count, -1);
	EXPECT_EQ(c.faults[1].kind, MTB_SIM_FAULT_CAMERA_DROPOUT);
	EXPECT_EQ(c.faults[1].position, 4);
	EXPECT_EQ(c.faults[1].count, 2);
	ASSERT_EQ(c.n_meters, 1);
	EXPECT_EQ(c.meters[0].start_volume_ul, 123456789);
	EXPECT_EQ(c.meters[0].true_error.n, 2);
}

TEST(SimConfig, ErrorsNameLineAndField)
{
	mtb_sim_config c;
	struct {
		const char *yaml, *want;
	} cases[] = {
		{ "meters:\n  - serial: A\n    type: t\n    true_error: [[25, 1], [15.6, 2]]\n",
		  "t.yaml: line 4: field 'meters[0].true_error': point 2: flows must increase strictly" },
		{ "meters:\n  - serial: A\n    type: t\n    true_error: [[25, 1x]]\n",
		  "t.yaml: line 4: field 'meters[0].true_error': not a number: '1x'" },
		{ "plant:\n  flow_tau_s: -1\nmeters:\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n",
		  "t.yaml: line 2: field 'plant.flow_tau_s': must be within" },
		{ "faults:\n  - kind: meltdown\nmeters:\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n",
		  "t.yaml: line 2: field 'faults[0].kind': unknown fault 'meltdown'" },
		{ "faults:\n  - kind: stuck-valve\nmeters:\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n",
		  "stuck-valve needs unit 2" },
		{ "meters:\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n",
		  "serial 'A' appears twice" },
		{ "meters:\n  - serial: A\n    type: t\n    true_error: [[25, 1, 3]]\n", "t.yaml: line 4" },
		{ "name: x\n", "field 'meters': a simulated bench needs meters, a can, or both" },
		{ "name: x\ncan:\n  vessel: v\n  error_ml: 2x\n", "line 4: field 'can.error_ml': not a number: '2x'" },
		{ "name: x\ncan:\n  vessel: v\n  water_c: 50\n", "line 4: field 'can.water_c': must be within 5-35, got 50" },
		{ "name: x\ncan:\n  vessel: v\n  camera_elevation_deg: 12\n",
		  "line 4: field 'can.camera_elevation_deg': must be within -10-10, got 12" },
		{ "name: x\ncan:\n  error_ml: 1\n", "vessel" },
		{ "meters:\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n    face: plaid\n",
		  "line 5: field 'meters[0].face': unknown face 'plaid'" },
		{ "cameras:\n  nuisance: 2\nmeters:\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n",
		  "line 2: field 'cameras.nuisance': must be within 0-1" },
		{ "meters:\n  - serial: A\n    type: t\n    true_error: [[25, 1]]\n    colour: red\n",
		  "line 5: unknown field 'colour'" },
	};
	for (const auto &k : cases) {
		mtb_errbuf eb = {};
		EXPECT_EQ(parse(k.yaml, &c, &eb), MTB_ERR_ARG) << k.yaml;
		EXPECT_NE(std::strstr(eb.msg, k.want), nullptr) << "got: " << eb.msg << "\nwant: " << k.want;
	}
	mtb_errbuf eb = {};
	EXPECT_EQ(mtb_sim_config_load("/nonexistent/sim.yaml", &c, &eb), MTB_ERR_NOTFOUND);
	EXPECT_NE(std::strstr(eb.msg, "/nonexistent/sim.yaml"), nullptr) << eb.msg;
}

TEST(SimConfig, UnknownMeterTypeIsNamed)
{
	char path[] = "/tmp/mtb-sim-cfg-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	ASSERT_GE(fd, 0);
	const char y[] = "meters:\n  - serial: A\n    type: no-such-type\n    true_error: [[25, 1]]\n";
	ASSERT_EQ(write(fd, y, sizeof y - 1), (ssize_t)(sizeof y - 1));
	close(fd);
	mtb_sim_config c;
	mtb_errbuf eb = {};
	EXPECT_NE(mtb_sim_config_load(path, &c, &eb), MTB_OK);
	EXPECT_NE(std::strstr(eb.msg, "meters[0].type"), nullptr) << eb.msg;
	EXPECT_NE(std::strstr(eb.msg, "no-such-type"), nullptr) << eb.msg;
	unlink(path);
}

} // namespace

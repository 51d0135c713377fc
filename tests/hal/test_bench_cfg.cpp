// Bench file loader: the simulated bench loads as docs/sim-register-map.md describes it, and
// malformed files are refused with the file, line and field named.
#include "hal/bench_cfg.h"

#include <gtest/gtest.h>

#include <string>

namespace {

struct CfgDeleter {
	void operator()(mtb_bench_cfg *c) const { mtb_bench_cfg_destroy(c); }
};
using Cfg = std::unique_ptr<mtb_bench_cfg, CfgDeleter>;

const char BASE[] =
	"name: t\n"
	"buses:\n"
	"  - name: plant\n"
	"    uri: tcp://127.0.0.1:1502\n"
	"devices:\n"
	"  - name: pump\n"
	"    class: pump\n"
	"    bus: plant\n"
	"    unit_id: 1\n"
	"    points:\n"
	"      - { name: run, function: coil, address: 0, type: bool, access: rw }\n"
	"      - { name: frequency, function: input, address: 0, type: uint16, scale: 0.01, unit: Hz }\n";

std::string load_err(const std::string &text)
{
	mtb_bench_cfg *c = nullptr;
	mtb_errbuf eb{};
	int rc = mtb_bench_cfg_parse(text.data(), text.size(), "x.yaml", &c, &eb);
	mtb_bench_cfg_destroy(c);
	if (rc == MTB_OK)
		return "OK";
	EXPECT_EQ(MTB_ERR_ARG, rc);
	return eb.msg;
}

std::string replace(std::string s, const std::string &from, const std::string &to)
{
	size_t at = s.find(from);
	EXPECT_NE(std::string::npos, at) << from;
	return s.replace(at, from.size(), to);
}

TEST(BenchCfg, LoadsTheSimulatedBench)
{
	mtb_bench_cfg *raw = nullptr;
	mtb_errbuf eb{};
	ASSERT_EQ(MTB_OK, mtb_bench_cfg_load(MTB_SOURCE_DIR "/configs/benches/sim.yaml", &raw, &eb)) << eb.msg;
	Cfg c(raw);
	EXPECT_STREQ("sim", c->name);
	ASSERT_EQ(1, c->n_buses);
	EXPECT_EQ(MTB_BUS_TCP, c->buses[0].kind);
	EXPECT_STREQ("127.0.0.1", c->buses[0].host);
	EXPECT_EQ(15020, c->buses[0].port);
	EXPECT_EQ(500, c->buses[0].response_timeout_ms);
	EXPECT_EQ(2, c->buses[0].retries);
	EXPECT_EQ(9, c->n_devices);
	int ref = mtb_bench_cfg_device(c.get(), "reference");
	ASSERT_GE(ref, 0);
	const mtb_device_cfg &d = c->devices[ref];
	EXPECT_EQ(MTB_DEV_REFERENCE, d.cls);
	EXPECT_EQ(10, d.unit_id);
	EXPECT_EQ(10000.0, d.pulses_per_l);
	EXPECT_STREQ("sim-ref-em-dn25", d.certificate);
	const mtb_point_cfg &flow = d.points[mtb_bench_cfg_point(&d, "flow")];
	EXPECT_EQ(MTB_FN_INPUT, flow.function);
	EXPECT_EQ(MTB_REG_FLOAT32, flow.type);
	EXPECT_EQ(MTB_REG_CDAB, flow.order);
	const mtb_point_cfg &tot = d.points[mtb_bench_cfg_point(&d, "totaliser")];
	EXPECT_EQ(2, tot.address);
	EXPECT_EQ(MTB_REG_FLOAT64, tot.type);
	const mtb_device_cfg &pump = c->devices[mtb_bench_cfg_device(c.get(), "pump")];
	const mtb_point_cfg &fs = pump.points[mtb_bench_cfg_point(&pump, "frequency_set")];
	EXPECT_DOUBLE_EQ(0.01, fs.scale);
	EXPECT_TRUE(fs.writable);
	EXPECT_STREQ("Hz", fs.unit);
	EXPECT_EQ(3000, c->bus_deadline_ms);
	ASSERT_EQ(3, c->n_safe);
	EXPECT_EQ(mtb_bench_cfg_device(c.get(), "control_valve"), c->safe_state[0].device);
	EXPECT_EQ(10, c->n_cameras);
	EXPECT_EQ(10, c->cameras[9].position);
}

TEST(BenchCfg, RtuUriAndDefaults)
{
	mtb_bus_cfg b{};
	mtb_errbuf eb{};
	ASSERT_EQ(MTB_OK, mtb_bus_cfg_parse_uri(&b, "rtu:///dev/ttyUSB0?baud=9600&parity=N&stop=2", &eb)) << eb.msg;
	EXPECT_EQ(MTB_BUS_RTU, b.kind);
	EXPECT_STREQ("/dev/ttyUSB0", b.device);
	EXPECT_EQ(9600, b.baud);
	EXPECT_EQ('N', b.parity);
	EXPECT_EQ(8, b.data_bits);
	EXPECT_EQ(2, b.stop_bits);
	EXPECT_EQ(MTB_ERR_ARG, mtb_bus_cfg_parse_uri(&b, "rtu:///dev/ttyUSB0?baud=fast", &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("baud"));
	EXPECT_EQ(MTB_ERR_ARG, mtb_bus_cfg_parse_uri(&b, "rtu:///dev/x?speed=1", &eb));
	EXPECT_EQ(MTB_ERR_ARG, mtb_bus_cfg_parse_uri(&b, "tcp://host", &eb));
	EXPECT_EQ(MTB_ERR_ARG, mtb_bus_cfg_parse_uri(&b, "tcp://host:70000", &eb));
	EXPECT_EQ(MTB_ERR_ARG, mtb_bus_cfg_parse_uri(&b, "udp://host:1", &eb));

	// t3.5 from the baud rate: 9600 Bd -> 3.5 x 11 bits / 9600 = 4.01 ms -> 5 ms.
	std::string rtu = replace(BASE, "tcp://127.0.0.1:1502", "rtu:///dev/ttyS0?baud=9600");
	mtb_bench_cfg *raw = nullptr;
	ASSERT_EQ(MTB_OK, mtb_bench_cfg_parse(rtu.data(), rtu.size(), "x", &raw, &eb)) << eb.msg;
	Cfg c(raw);
	EXPECT_EQ(5, c->buses[0].gap_ms);
}

TEST(BenchCfg, ErrorsNameFileLineAndField)
{
	EXPECT_EQ("OK", load_err(BASE));
	EXPECT_EQ("x.yaml: line 12: device 'pump': point 'frequency': field 'type': unknown type 'uint61' "
		  "(bool, int16, uint16, int32, uint32, int64, uint64, float32, float64)",
		  load_err(replace(BASE, "type: uint16", "type: uint61")));
	EXPECT_EQ("x.yaml: line 12: device 'pump': point 'frequency': field 'order': unknown order 'ABDC' (ABCD, CDAB, BADC, DCBA)",
		  load_err(replace(BASE, "type: uint16", "type: uint16, order: ABDC")));
	EXPECT_EQ("x.yaml: line 8: device 'pump': field 'bus': no bus named 'plnt'",
		  load_err(replace(BASE, "bus: plant", "bus: plnt")));
	EXPECT_EQ("x.yaml: line 9: device 'pump': field 'unit_id': not an integer: '1.5'",
		  load_err(replace(BASE, "unit_id: 1", "unit_id: 1.5")));
	EXPECT_EQ("x.yaml: line 12: device 'pump': point 'frequency': field 'scale': not a number: '0.01x'",
		  load_err(replace(BASE, "scale: 0.01", "scale: 0.01x")));
	EXPECT_EQ("x.yaml: line 7: device 'pump': field 'class': unknown class 'pmp' (valve, control-valve, pump, "
		  "reference-meter, pressure, temperature, balance, sim-clock, humidity)",
		  load_err(replace(BASE, "class: pump", "class: pmp")));
	EXPECT_EQ("x.yaml: line 4: bus 'plant': field 'uri': 'tcp://127.0.0.1': expected tcp://HOST:PORT",
		  load_err(replace(BASE, "tcp://127.0.0.1:1502", "tcp://127.0.0.1")));
}

TEST(BenchCfg, SemanticChecks)
{
	auto has = [](const std::string &msg, const std::string &part) {
		return msg.find(part) != std::string::npos ? ::testing::AssertionSuccess()
							   : ::testing::AssertionFailure() << msg;
	};
	EXPECT_TRUE(has(load_err(replace(BASE, "type: bool, access", "type: int16, access")), "field 'type': a coil holds one bit"));
	EXPECT_TRUE(has(load_err(replace(BASE, "type: uint16", "type: bool")), "bool is for coil or discrete"));
	EXPECT_TRUE(has(load_err(replace(BASE, "unit: Hz }", "unit: Hz, access: rw }")), "input points are read-only"));
	EXPECT_TRUE(has(load_err(replace(BASE, ", access: rw }", " }")), "point 'run' of a pump must be access: rw"));
	EXPECT_TRUE(has(load_err(replace(BASE, "name: run", "name: start")), "a pump needs a point named 'run'"));
	EXPECT_TRUE(has(load_err(replace(BASE, "address: 0, type: uint16", "address: 65535, type: float32")), "runs past register 65535"));
	EXPECT_TRUE(has(load_err(replace(BASE, "address: 0, type: uint16", "address: -1, type: uint16")), "must be within 0-65535"));
	EXPECT_TRUE(has(load_err(replace(BASE, "name: frequency,", "name: run,")), "point 'run' is defined twice"));
	EXPECT_TRUE(has(load_err(std::string(BASE) + "    colour: red\n"), "unknown field 'colour'"));
	EXPECT_TRUE(has(load_err(std::string(BASE) + "safety:\n  safe_state:\n    - { device: pump, point: frequency, value: 0 }\n"),
			"field 'point': 'pump.frequency' is not writable"));
	EXPECT_TRUE(has(load_err(std::string(BASE) + "safety:\n  safe_state:\n    - { device: pmp, point: run, value: 0 }\n"),
			"field 'device': no device named 'pmp'"));
	EXPECT_TRUE(has(load_err(std::string(BASE) + "safety:\n  safe_state:\n    - { device: pump, point: run, value: 2 }\n"),
			"field 'value': 2 does not fit pump.run"));
	EXPECT_TRUE(has(load_err(std::string(BASE) + "safety:\n  bus_deadline_ms: soon\n"), "line 14: safety: field 'bus_deadline_ms': not an integer"));
	EXPECT_TRUE(has(load_err(std::string(BASE) + "cameras:\n  - { name: c1, position: 1, uri: ftp://x }\n"),
			"camera 'c1': field 'uri': 'ftp://x': scheme must be"));
	EXPECT_TRUE(has(load_err("name: t\ndevices: []\n"), "x.yaml"));
	EXPECT_TRUE(has(load_err("name: [\n"), "x.yaml"));
}

TEST(BenchCfg, Balance)
{
	std::string b = std::string(BASE) +
		"  - name: scale\n"
		"    class: balance\n"
		"    uri: serial:///dev/ttyUSB1?baud=9600\n"
		"    protocol: sics\n";
	mtb_bench_cfg *raw = nullptr;
	mtb_errbuf eb{};
	ASSERT_EQ(MTB_OK, mtb_bench_cfg_parse(b.data(), b.size(), "x", &raw, &eb)) << eb.msg;
	Cfg c(raw);
	const mtb_device_cfg &d = c->devices[1];
	EXPECT_EQ(MTB_DEV_BALANCE, d.cls);
	EXPECT_EQ(-1, d.bus);
	EXPECT_STREQ("sics", d.protocol);
	EXPECT_NE(std::string::npos, load_err(replace(b, "protocol: sics", "protocol: mt")).find("unknown balance protocol 'mt'"));
	EXPECT_NE(std::string::npos, load_err(replace(b, "protocol: sics\n", "protocol: sics\n    unit: g\n")).find("only an SBI balance has unit"));
	EXPECT_NE(std::string::npos, load_err(replace(b, "protocol: sics\n", "protocol: sbi\n    unit: lb\n")).find("unknown unit 'lb'"));
	EXPECT_NE(std::string::npos, load_err(replace(b, "uri: serial:///dev/ttyUSB1?baud=9600", "uri: /dev/ttyUSB1")).find("field 'uri'"));
}

}  // namespace

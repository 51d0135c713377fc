// Benchmark (not a test): time of one HAL poll cycle -- every block of every Modbus device of a
// bench file read once -- over loopback TCP. Run by scripts/bench.d/hal.
// usage: bench_hal_poll --bench FILE [--cycles N] [--own-server] [--label TEXT]
// --own-server serves the bench's devices from the tests' libmodbus server (tests/hal/
// fault_server.cpp) on a free port instead of whatever the bench file points at.
#include "../hal/fault_server.h"

#include "hal/hal.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
	std::string bench, label = "bench";
	int cycles = 1000;
	bool own = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--bench" && i + 1 < argc)
			bench = argv[++i];
		else if (a == "--cycles" && i + 1 < argc)
			cycles = std::max(10, atoi(argv[++i]));
		else if (a == "--label" && i + 1 < argc)
			label = argv[++i];
		else if (a == "--own-server")
			own = true;
		else {
			fprintf(stderr, "usage: bench_hal_poll --bench FILE [--cycles N] [--own-server] [--label TEXT]\n");
			return 2;
		}
	}
	std::ifstream f(bench);
	std::stringstream ss;
	ss << f.rdbuf();
	std::string yaml = ss.str();
	std::unique_ptr<FaultServer> srv;
	if (own) {
		srv = FaultServer::tcp();
		size_t at = yaml.find("tcp://");
		size_t end = yaml.find_first_of("\"\n ", at);
		yaml.replace(at, end - at, "tcp://127.0.0.1:" + std::to_string(srv->port()));
	}
	mtb_bench_cfg *cfg = nullptr;
	mtb_errbuf eb{};
	if (mtb_bench_cfg_parse(yaml.data(), yaml.size(), bench.c_str(), &cfg, &eb) != MTB_OK) {
		fprintf(stderr, "bench_hal_poll: %s\n", eb.msg);
		return 2;
	}
	mtb_hal *hal = nullptr;
	mtb_hal_opts o{};
	o.no_watchdog = true;
	if (mtb_hal_create(&hal, cfg, &o, &eb) != MTB_OK) {
		fprintf(stderr, "bench_hal_poll: %s\n", eb.msg);
		return 1;
	}
	for (int i = 0; i < 20; i++)   // connect and warm up
		mtb_hal_poll(hal, &eb);
	std::vector<double> ms;
	int failed = 0;
	for (int i = 0; i < cycles; i++) {
		auto t0 = std::chrono::steady_clock::now();
		failed += mtb_hal_poll(hal, &eb) != MTB_OK;
		auto t1 = std::chrono::steady_clock::now();
		ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
	}
	mtb_bus_health h;
	mtb_bus_health_get(mtb_hal_bus(hal, 0), &h);
	std::sort(ms.begin(), ms.end());
	double mean = 0;
	for (double v : ms)
		mean += v;
	mean /= ms.size();
	auto pct = [&](double p) { return ms[std::min(ms.size() - 1, (size_t)(p * ms.size()))]; };
	printf("%-28s cycles %d  requests/cycle %.0f  p50 %.3f ms  p99 %.3f ms  mean %.3f ms  max %.3f ms  failed %d\n",
	       label.c_str(), cycles, (double)h.n_requests / (cycles + 20), pct(0.50), pct(0.99), mean, ms.back(), failed);
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(cfg);
	return failed ? 1 : 0;
}

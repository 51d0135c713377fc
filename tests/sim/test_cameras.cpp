// The simulator's virtual cameras over HTTP: snapshot and MJPEG of the dial at the simulated
// instant, camera dropout, and the test-only /truth.json.
#include "sim/sim_server.h"
#include "vision/vision.h"

#include <gtest/gtest.h>
#include <modbus/modbus.h>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

struct Server {
	mtb_sim_config cfg;
	mtb_sim_server *s = nullptr;
	std::thread th;
	Server()
	{
		mtb_errbuf eb = {};
		EXPECT_EQ(mtb_sim_config_load("demo", &cfg, &eb), MTB_OK) << eb.msg;
		cfg.camera.width = 320;
		cfg.camera.height = 240;
		cfg.camera.fps = 20;
		mtb_sim_server_options o = {};
		o.tcp_host = "127.0.0.1";
		o.http_host = "127.0.0.1";
		o.lockstep = true;
		EXPECT_EQ(mtb_sim_server_create(&cfg, &o, &s, &eb), MTB_OK) << eb.msg;
		if (s)
			th = std::thread([this] { mtb_sim_server_run(s); });
	}
	~Server()
	{
		if (s) {
			mtb_sim_server_stop(s);
			th.join();
			mtb_sim_server_destroy(s);
		}
	}
};

// A plain HTTP/1.1 GET over a socket; returns everything the server sent (it closes the
// connection), reading at most max_bytes.
std::string http_get(int port, const std::string &path, size_t max_bytes = 1 << 22)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return "";
	}
	std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	send(fd, req.data(), req.size(), 0);
	std::string out;
	char buf[65536];
	ssize_t n;
	while (out.size() < max_bytes && (n = recv(fd, buf, sizeof buf, 0)) > 0)
		out.append(buf, (size_t)n);
	close(fd);
	return out;
}

std::string header(const std::string &resp, const std::string &name)
{
	size_t p = resp.find("\r\n" + name + ": ");
	if (p == std::string::npos)
		return "";
	p += name.size() + 4;
	return resp.substr(p, resp.find("\r\n", p) - p);
}

std::string body(const std::string &resp)
{
	size_t p = resp.find("\r\n\r\n");
	return p == std::string::npos ? "" : resp.substr(p + 4);
}

void advance(modbus_t *ctx, uint32_t us)
{
	uint16_t r[2] = { (uint16_t)(us >> 16), (uint16_t)us };
	modbus_set_slave(ctx, 100);
	ASSERT_EQ(modbus_write_registers(ctx, 4, 2, r), 2);
}

TEST(SimCameras, SnapshotShowsTheDialAtTheSimulatedInstant)
{
	Server srv;
	ASSERT_NE(srv.s, nullptr);
	int port = mtb_sim_server_http_port(srv.s);
	ASSERT_GT(port, 0);
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", mtb_sim_server_tcp_port(srv.s));
	ASSERT_EQ(modbus_connect(ctx), 0);
	advance(ctx, 2500000);
	std::string r = http_get(port, "/camera/3/snapshot.jpg");
	ASSERT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r.substr(0, 200);
	EXPECT_EQ(header(r, "Content-Type"), "image/jpeg");
	EXPECT_EQ(header(r, "X-Timestamp-Us"), "2500000");
	std::string jpg = body(r);
	EXPECT_EQ(std::to_string(jpg.size()), header(r, "Content-Length"));
	mtb_image *img = nullptr;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_image_decode(jpg.data(), jpg.size(), &img, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(img->width, 320);
	EXPECT_EQ(img->height, 240);
	mtb_image_destroy(img);

	// water through the meters turns the dial: another volume, another picture
	modbus_set_slave(ctx, 1);
	modbus_write_register(ctx, 0, 5000);
	modbus_write_bit(ctx, 0, 1);
	modbus_set_slave(ctx, 2);
	modbus_write_bit(ctx, 0, 1);
	modbus_set_slave(ctx, 3);
	modbus_write_register(ctx, 0, 10000);
	for (int i = 0; i < 30; i++)
		advance(ctx, 1000000);
	mtb_sim_truth t;
	mtb_sim_server_truth(srv.s, &t);
	ASSERT_GT(t.meters[2].indicated_ul - t.meters[2].start_ul, 10000000);   // > 10 L
	std::string r2 = http_get(port, "/camera/3/snapshot.jpg");
	EXPECT_EQ(header(r2, "X-Timestamp-Us"), "32500000");
	EXPECT_NE(body(r2), jpg);
	modbus_close(ctx);
	modbus_free(ctx);

	EXPECT_EQ(http_get(port, "/camera/11/snapshot.jpg").rfind("HTTP/1.1 404", 0), 0u);
	EXPECT_EQ(http_get(port, "/camera/0/snapshot.jpg").rfind("HTTP/1.1 404", 0), 0u);
	EXPECT_EQ(http_get(port, "/camera/1/other").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(SimCameras, MjpegStreamsFramesUntilDropout)
{
	Server srv;
	ASSERT_NE(srv.s, nullptr);
	int port = mtb_sim_server_http_port(srv.s);
	std::string r = http_get(port, "/camera/1/stream.mjpeg", 40000);
	ASSERT_EQ(r.rfind("HTTP/1.1 200", 0), 0u);
	EXPECT_EQ(header(r, "Content-Type"), "multipart/x-mixed-replace; boundary=mtbframe");
	size_t p = r.find("--mtbframe\r\n");
	ASSERT_NE(p, std::string::npos);
	std::string part = r.substr(p);
	size_t len = std::stoul(header(part, "Content-Length"));
	std::string jpg = body(part).substr(0, len);
	ASSERT_EQ(jpg.size(), len);
	mtb_image *img = nullptr;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_image_decode(jpg.data(), jpg.size(), &img, &eb), MTB_OK) << eb.msg;
	mtb_image_destroy(img);

	// dropout of camera 2 only: 503 for it, the others still answer; the stream ends
	mtb_sim_fault f = {};
	f.kind = MTB_SIM_FAULT_CAMERA_DROPOUT;
	f.position = 2;
	f.count = -1;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	EXPECT_EQ(http_get(port, "/camera/2/snapshot.jpg").rfind("HTTP/1.1 503", 0), 0u);
	EXPECT_EQ(http_get(port, "/camera/1/snapshot.jpg").rfind("HTTP/1.1 200", 0), 0u);
	std::string s2 = http_get(port, "/camera/2/stream.mjpeg");
	EXPECT_EQ(s2.find("--mtbframe"), std::string::npos);
	mtb_sim_server_faults_clear(srv.s);
	EXPECT_EQ(http_get(port, "/camera/2/snapshot.jpg").rfind("HTTP/1.1 200", 0), 0u);
}

TEST(SimCameras, TruthAndRuntimeFaultsOverHttp)
{
	Server srv;
	ASSERT_NE(srv.s, nullptr);
	int port = mtb_sim_server_http_port(srv.s);
	std::string t = body(http_get(port, "/truth.json"));
	EXPECT_EQ(t.rfind("{\"t_us\":0,\"flow_lph\":0.0,\"air_ml\":150.0,\"reference\":{\"true_ul\":0,", 0), 0u) << t;
	EXPECT_NE(t.find("\"serial\":\"SIM-0005\""), std::string::npos);
	// a fault added over HTTP shows on the wire
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	ASSERT_EQ(connect(fd, (sockaddr *)&a, sizeof a), 0);
	std::string req = "POST /faults?kind=exception&unit=30&code=6&count=1 HTTP/1.1\r\nHost: x\r\n"
			  "Content-Length: 0\r\nConnection: close\r\n\r\n";
	send(fd, req.data(), req.size(), 0);
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	close(fd);
	ASSERT_GT(n, 0);
	EXPECT_EQ(std::string(buf, (size_t)n).rfind("HTTP/1.1 200", 0), 0u);
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", mtb_sim_server_tcp_port(srv.s));
	ASSERT_EQ(modbus_connect(ctx), 0);
	modbus_set_slave(ctx, 30);
	uint16_t r[1];
	EXPECT_EQ(modbus_read_input_registers(ctx, 0, 1, r), -1);
	EXPECT_EQ(errno, EMBXSBUSY);
	EXPECT_EQ(modbus_read_input_registers(ctx, 0, 1, r), 1);
	modbus_close(ctx);
	modbus_free(ctx);
}

} // namespace

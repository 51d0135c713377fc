// Cameras: the HTTP head and MJPEG part parsers (vectors, cuts, junk), and the camera drivers
// against a small HTTP server in the test (snapshot, MJPEG stream, errors) and a directory replay.
#include "fault_server.h"

#include "hal/camera.h"
#include "hal/http_parse.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::string jpeg(int b, int g, int r)
{
	cv::Mat m(48, 64, CV_8UC3, cv::Scalar(b, g, r));
	std::vector<uint8_t> out;
	cv::imencode(".jpg", m, out);
	return std::string(out.begin(), out.end());
}

TEST(HttpParse, Head)
{
	std::string s = "HTTP/1.1 200 OK\r\nContent-Type: Multipart/X-Mixed-Replace; boundary=\"fr ame\"\r\n"
			"Content-Length: 12\r\nX-Timestamp-Us: 1234567\r\n\r\nBODY";
	mtb_http_head h{};
	const char *why = nullptr;
	ASSERT_EQ(MTB_OK, mtb_http_head_parse(s.data(), s.size(), &h, &why)) << why;
	EXPECT_EQ(200, h.status);
	EXPECT_STREQ("multipart/x-mixed-replace", h.content_type);
	EXPECT_STREQ("fr ame", h.boundary);
	EXPECT_EQ(12, h.content_length);
	EXPECT_TRUE(h.has_timestamp);
	EXPECT_EQ(1234567, h.timestamp_us);
	EXPECT_EQ(s.size() - 4, h.head_len);
	// Every cut of the head asks for more; none is taken for complete.
	for (size_t n = 0; n < s.size() - 4; n++)
		EXPECT_EQ(MTB_PARSE_MORE, mtb_http_head_parse(s.data(), n, &h, &why)) << n;
	std::string lf = "HTTP/1.0 404 Not Found\nContent-Type: text/plain\n\n";
	ASSERT_EQ(MTB_OK, mtb_http_head_parse(lf.data(), lf.size(), &h, &why));
	EXPECT_EQ(404, h.status);
	EXPECT_EQ(-1, h.content_length);
	const char *bad[] = { "GET / HTTP/1.0\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
			      "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
			      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
			      "HTTP/1.1 200 OK\r\nX-Timestamp-Us: soon\r\n\r\n",
			      "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=\"x\r\n\r\n" };
	for (const char *b : bad) {
		why = nullptr;
		EXPECT_EQ(MTB_ERR_PROTO, mtb_http_head_parse(b, strlen(b), &h, &why)) << b;
		EXPECT_NE(nullptr, why) << b;
	}
	std::string huge = "HTTP/1.1 200 OK\r\nX: " + std::string(MTB_HTTP_HEAD_MAX, 'a');
	EXPECT_EQ(MTB_ERR_PROTO, mtb_http_head_parse(huge.data(), huge.size(), &h, &why));
}

TEST(HttpParse, MjpegParts)
{
	std::string s = "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\nX-Timestamp-Us: 7\r\n\r\nAAAAA\r\n"
			"--frame\r\nContent-Type: image/jpeg\r\n\r\nBB\r\nB\r\n--frame\r\n";
	const uint8_t *u = (const uint8_t *)s.data();
	mtb_mjpeg_part p{};
	const char *why = nullptr;
	ASSERT_EQ(MTB_OK, mtb_mjpeg_part_parse(u, s.size(), "frame", &p, &why)) << why;
	EXPECT_EQ("AAAAA", s.substr(p.body_off, p.body_len));
	EXPECT_TRUE(p.has_timestamp);
	EXPECT_EQ(7, p.timestamp_us);
	size_t used = p.consumed;
	// The second part has no Content-Length: it ends at the next boundary line.
	ASSERT_EQ(MTB_OK, mtb_mjpeg_part_parse(u + used, s.size() - used, "frame", &p, &why)) << why;
	EXPECT_EQ("BB\r\nB", s.substr(used + p.body_off, p.body_len));
	EXPECT_FALSE(p.has_timestamp);
	// Cuts anywhere inside the first part ask for more.
	size_t first_end = 0;
	ASSERT_EQ(MTB_OK, mtb_mjpeg_part_parse(u, s.size(), "frame", &p, &why));
	first_end = p.consumed;
	for (size_t n = 0; n < first_end; n++)
		EXPECT_EQ(MTB_PARSE_MORE, mtb_mjpeg_part_parse(u, n, "frame", &p, &why)) << n;
	// A boundary declared with its dashes (some cameras do that).
	std::string d = "--myb\r\nContent-Length: 1\r\n\r\nZ";
	ASSERT_EQ(MTB_OK, mtb_mjpeg_part_parse((const uint8_t *)d.data(), d.size(), "--myb", &p, &why)) << why;
	EXPECT_EQ(1u, p.body_len);
	const char *bad[] = { "--other\r\n\r\nX", "junk", "--frame--\r\n", "--frame junk\r\n\r\n",
			      "--frame\r\nContent-Length: x\r\n\r\n", "--frame\r\nNoColon\r\n\r\n",
			      "\r\n\r\n\r\n\r\n\r\n--frame\r\n\r\n" };
	for (const char *b : bad) {
		why = nullptr;
		EXPECT_EQ(MTB_ERR_PROTO, mtb_mjpeg_part_parse((const uint8_t *)b, strlen(b), "frame", &p, &why)) << b;
		EXPECT_NE(nullptr, why) << b;
	}
	std::string big = "--frame\r\nContent-Length: 999999999\r\n\r\n";
	EXPECT_EQ(MTB_ERR_PROTO, mtb_mjpeg_part_parse((const uint8_t *)big.data(), big.size(), "frame", &p, &why));
}

// A lab IP camera in miniature.
class HttpCamServer {
public:
	HttpCamServer()
	{
		lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(lfd_, (sockaddr *)&a, sizeof a);
		listen(lfd_, 8);
		socklen_t l = sizeof a;
		getsockname(lfd_, (sockaddr *)&a, &l);
		port_ = ntohs(a.sin_port);
		th_ = std::thread([this] { run(); });
	}
	~HttpCamServer()
	{
		stop_ = true;
		th_.join();
		close(lfd_);
	}
	int port() const { return port_; }
	std::atomic<int> go{ 0 };

private:
	static void send_str(int fd, const std::string &s) { (void)!send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
	void serve(int c)
	{
		std::string req;
		char buf[1024];
		while (req.find("\r\n\r\n") == std::string::npos) {
			ssize_t n = recv(c, buf, sizeof buf, 0);
			if (n <= 0)
				return;
			req.append(buf, (size_t)n);
		}
		std::string path = req.substr(4, req.find(' ', 4) - 4);
		if (path == "/snap.jpg") {
			std::string j = jpeg(0, 0, 255);
			send_str(c, "HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: " + std::to_string(j.size()) +
					    "\r\nX-Timestamp-Us: 4242\r\n\r\n" + j);
		} else if (path == "/nolen.jpg") {
			send_str(c, "HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg(255, 0, 0));
		} else if (path == "/junk.jpg") {
			send_str(c, "HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 10\r\n\r\n0123456789");
		} else if (path == "/stream.mjpeg") {
			send_str(c, "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n");
			auto part = [&](int ts, const std::string &j, bool len) {
				send_str(c, "--frame\r\nContent-Type: image/jpeg\r\n" +
						    (len ? "Content-Length: " + std::to_string(j.size()) + "\r\n" : std::string()) +
						    "X-Timestamp-Us: " + std::to_string(ts) + "\r\n\r\n" + j + "\r\n");
			};
			part(1, jpeg(0, 255, 0), true);
			while (!stop_ && go == 0)
				std::this_thread::sleep_for(std::chrono::milliseconds(5));
			part(2, jpeg(0, 0, 255), false);
			part(3, jpeg(255, 0, 0), true);
			while (!stop_ && go == 1)   // idle: no more frames until told
				std::this_thread::sleep_for(std::chrono::milliseconds(5));
		} else {
			send_str(c, "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno");
		}
	}
	void run()
	{
		while (!stop_) {
			pollfd p{ lfd_, POLLIN, 0 };
			if (poll(&p, 1, 20) <= 0)
				continue;
			int c = accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			serve(c);
			close(c);
		}
	}
	int lfd_, port_;
	std::atomic<bool> stop_{ false };
	std::thread th_;
};

struct Cam {
	mtb_camera *c = nullptr;
	int rc;
	mtb_errbuf eb{};
	Cam(const std::string &uri, const mtb_clock *clk = nullptr, int timeout_ms = 500)
	{
		mtb_camera_cfg cfg{};
		snprintf(cfg.name, sizeof cfg.name, "cam1");
		cfg.position = 1;
		snprintf(cfg.uri, sizeof cfg.uri, "%s", uri.c_str());
		mtb_camera_opts o{};
		o.clock = clk;
		o.timeout_ms = timeout_ms;
		rc = mtb_camera_open(&c, &cfg, &o, &eb);
	}
	~Cam() { mtb_camera_close(c); }
	int grab(mtb_image **img) { return mtb_camera_grab(c, img, &eb); }
};

// Mean of one channel, to tell the test colours apart after JPEG.
double mean(const mtb_image *img, int ch)
{
	double s = 0;
	for (int y = 0; y < img->height; y++)
		for (int x = 0; x < img->width; x++)
			s += mtb_image_row(img, y)[x * 3 + ch];
	return s / (img->width * img->height);
}

TEST(CameraHttp, SnapshotsAndErrors)
{
	HttpCamServer srv;
	std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
	mtb_clock_manual man{ 99 };
	mtb_clock clk = mtb_clock_manual_make(&man);
	{
		Cam cam(base + "/snap.jpg", &clk);
		ASSERT_EQ(MTB_OK, cam.rc) << cam.eb.msg;
		EXPECT_STREQ("http", mtb_camera_kind(cam.c));
		mtb_image *img = nullptr;
		ASSERT_EQ(MTB_OK, cam.grab(&img)) << cam.eb.msg;
		EXPECT_EQ(64, img->width);
		EXPECT_EQ(48, img->height);
		EXPECT_EQ(3, img->channels);
		EXPECT_GT(mean(img, 2), 200);   // red (BGR)
		EXPECT_EQ(4242, img->t_mono_us); // the server's timestamp
		mtb_image_destroy(img);
	}
	{
		Cam cam(base + "/nolen.jpg", &clk);
		mtb_image *img = nullptr;
		ASSERT_EQ(MTB_OK, cam.grab(&img)) << cam.eb.msg;
		EXPECT_GT(mean(img, 0), 200);   // blue
		EXPECT_EQ(99, img->t_mono_us);   // no header: the injected clock
		mtb_image_destroy(img);
	}
	mtb_image *img = nullptr;
	Cam missing(base + "/missing.jpg");
	EXPECT_EQ(MTB_ERR_NOTFOUND, missing.grab(&img));
	EXPECT_EQ("camera 'cam1': " + base + "/missing.jpg: HTTP status 404", std::string(missing.eb.msg));
	Cam junk(base + "/junk.jpg");
	EXPECT_EQ(MTB_ERR_PROTO, junk.grab(&img));
	EXPECT_NE(std::string::npos, std::string(junk.eb.msg).find("cannot decode image")) << junk.eb.msg;
	Cam refused("http://127.0.0.1:1/x.jpg");
	EXPECT_EQ(MTB_ERR_IO, refused.grab(&img));
	EXPECT_NE(std::string::npos, std::string(refused.eb.msg).find("cannot connect to 127.0.0.1:1")) << refused.eb.msg;
	Cam bad("http://:80/x.jpg");
	EXPECT_EQ(MTB_ERR_ARG, bad.rc);
	EXPECT_EQ(nullptr, img);
}

TEST(CameraHttp, MjpegStreamGivesTheNewestFrame)
{
	HttpCamServer srv;
	Cam cam("http://127.0.0.1:" + std::to_string(srv.port()) + "/stream.mjpeg", nullptr, 300);
	ASSERT_EQ(MTB_OK, cam.rc) << cam.eb.msg;
	mtb_image *img = nullptr;
	ASSERT_EQ(MTB_OK, cam.grab(&img)) << cam.eb.msg;
	EXPECT_EQ(1, img->t_mono_us);
	EXPECT_GT(mean(img, 1), 200);   // green
	mtb_image_destroy(img);
	srv.go = 1;   // two frames arrive; the older one is skipped
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	ASSERT_EQ(MTB_OK, cam.grab(&img)) << cam.eb.msg;
	EXPECT_EQ(3, img->t_mono_us);
	EXPECT_GT(mean(img, 0), 200);   // blue
	mtb_image_destroy(img);
	// A stream that stops sending: a timeout, not a stale frame.
	EXPECT_EQ(MTB_ERR_TIMEOUT, cam.grab(&img));
	EXPECT_EQ(nullptr, img);
	srv.go = 2;
}

TEST(CameraDir, ReplaysInNameOrder)
{
	std::string dir = make_temp_dir();
	cv::imwrite(dir + "/b.png", cv::Mat(10, 20, CV_8UC3, cv::Scalar(255, 0, 0)));
	cv::imwrite(dir + "/a.png", cv::Mat(10, 20, CV_8UC1, cv::Scalar(128)));
	FILE *f = fopen((dir + "/notes.txt").c_str(), "w");
	fputs("not an image", f);
	fclose(f);
	{
		Cam cam("dir://" + dir);
		ASSERT_EQ(MTB_OK, cam.rc) << cam.eb.msg;
		mtb_image *img = nullptr;
		ASSERT_EQ(MTB_OK, cam.grab(&img)) << cam.eb.msg;   // a.png, grey -> BGR
		EXPECT_EQ(3, img->channels);
		EXPECT_EQ(128, mtb_image_row(img, 0)[1]);
		mtb_image_destroy(img);
		ASSERT_EQ(MTB_OK, cam.grab(&img));                  // b.png
		EXPECT_EQ(255, mtb_image_row(img, 0)[0]);
		mtb_image_destroy(img);
		ASSERT_EQ(MTB_OK, cam.grab(&img));                  // a.png again
		EXPECT_EQ(128, mtb_image_row(img, 0)[0]);
		mtb_image_destroy(img);
	}
	Cam empty("dir:///nonexistent-dir-for-test");
	EXPECT_EQ(MTB_ERR_NOTFOUND, empty.rc);
	Cam sim("sim:");
	EXPECT_EQ(MTB_ERR_NOTSUP, sim.rc);
	std::string cmd = "rm -rf '" + dir + "'";
	(void)!system(cmd.c_str());
}

}  // namespace

/* The live view's server over real HTTP on loopback: events in order with history for late
 * viewers, MJPEG with the reading drawn, operator control, and hardening (unknown paths, huge
 * headers, malformed requests, slow viewers, 50 concurrent viewers). */
#include "bench/live.h"
#include "core/clock.h"
#include "core/image.h"
#include "vision/vision.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void send_all(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* Reads until `until` appears in what was read, the peer closes, or timeout_ms passes. */
std::string read_until(int fd, const std::string &until, int timeout_ms = 5000, bool *closed = nullptr)
{
	std::string got;
	char buf[65536];
	if (closed)
		*closed = false;
	for (int waited = 0; waited < timeout_ms;) {
		if (!until.empty() && got.find(until) != std::string::npos)
			break;
		pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, 50);
		if (r == 0) {
			waited += 50;
			continue;
		}
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0) {
			if (closed)
				*closed = true;
			break;
		}
		got.append(buf, (size_t)n);
	}
	return got;
}

/* One whole request (Connection: close): status line and body. */
std::string request(int port, const std::string &raw, int timeout_ms = 5000)
{
	int fd = dial(port);
	if (fd < 0)
		return "";
	send_all(fd, raw);
	std::string r = read_until(fd, "", timeout_ms);
	close(fd);
	return r;
}

std::string get(int port, const std::string &path, const std::string &headers = "")
{
	return request(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n");
}

int status_of(const std::string &resp)
{
	if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12)
		return 0;
	return atoi(resp.c_str() + 9);
}

struct Server {
	struct mtb_live *live = nullptr;
	int port = 0;
	explicit Server(struct mtb_live_opts o = {})
	{
		struct mtb_errbuf eb = {};
		EXPECT_EQ(mtb_live_create(&live, "127.0.0.1:0", &o, &eb), MTB_OK) << eb.msg;
		port = mtb_live_port(live);
	}
	~Server() { mtb_live_destroy(live); }
};

int open_events(int port, const std::string &extra = "")
{
	int fd = dial(port);
	send_all(fd, "GET /events HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n");
	return fd;
}

/* The data lines of an event stream, in order. */
std::vector<std::string> data_lines(const std::string &s0)
{
	std::string s = "\n" + s0;
	std::vector<std::string> v;
	size_t p = 0;
	while ((p = s.find("\ndata: ", p)) != std::string::npos) {
		size_t e = s.find('\n', p + 7);
		if (e == std::string::npos)
			break;
		v.push_back(s.substr(p + 7, e - p - 7));
		p = e;
	}
	return v;
}

std::vector<unsigned long long> ids(const std::string &s0)
{
	std::string s = "\n" + s0;
	std::vector<unsigned long long> v;
	size_t p = 0;
	while ((p = s.find("\nid: ", p)) != std::string::npos) {
		v.push_back(strtoull(s.c_str() + p + 5, nullptr, 10));
		p += 5;
	}
	return v;
}

/* A real JPEG: a grey frame with a dark square. */
std::vector<unsigned char> test_jpeg(int w, int h, uint8_t grey)
{
	struct mtb_image *img;
	EXPECT_EQ(mtb_image_create(&img, w, h, 3), MTB_OK);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w * 3; x++)
			mtb_image_row(img, y)[x] = (x / 3 > w / 4 && x / 3 < w / 2 && y > h / 4 && y < h / 2) ? 20 : grey;
	unsigned char *jpg;
	size_t len;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_image_encode_jpeg(img, 90, &jpg, &len, &eb), MTB_OK) << eb.msg;
	std::vector<unsigned char> v(jpg, jpg + len);
	free(jpg);
	mtb_image_destroy(img);
	return v;
}

/* The header block of every part, as the server sends it: the boundary and the part's headers. */
const std::string PART_HEAD = "--mtbframe\r\nContent-Type: image/jpeg\r\n\r\n";

/* The complete JPEG parts of a multipart stream: a part is complete once the next part's
 * boundary and headers have arrived (that is when a browser shows it). */
std::vector<std::string> parts(const std::string &s)
{
	std::vector<std::string> v;
	size_t p = s.find(PART_HEAD);
	while (p != std::string::npos) {
		size_t body = p + PART_HEAD.size();
		size_t next = s.find("\r\n" + PART_HEAD, body);
		if (next == std::string::npos)
			break;
		v.push_back(s.substr(body, next - body));
		p = next + 2;
	}
	return v;
}

/* A frame is shown by a browser as soon as it arrives: what the viewer has received ends with
 * the complete header block of the part after it. */
bool last_part_closed(const std::string &s)
{
	return s.size() >= PART_HEAD.size() + 2 && s.compare(s.size() - PART_HEAD.size() - 2, std::string::npos,
							    "\r\n" + PART_HEAD) == 0;
}

} // namespace

TEST(Live, BindsLoopbackByDefaultAndRefusesBadAddresses)
{
	struct mtb_live *l = nullptr;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_live_create(&l, "0", nullptr, &eb), MTB_OK) << eb.msg;
	int fd = dial(mtb_live_port(l));
	ASSERT_GE(fd, 0);
	sockaddr_in local = {};
	socklen_t sl = sizeof local;
	getpeername(fd, (sockaddr *)&local, &sl);
	EXPECT_EQ(ntohl(local.sin_addr.s_addr), INADDR_LOOPBACK);
	close(fd);
	mtb_live_destroy(l);
	EXPECT_EQ(mtb_live_create(&l, "nohost:80", nullptr, &eb), MTB_ERR_ARG);
	EXPECT_NE(std::string(eb.msg).find("IPv4"), std::string::npos) << eb.msg;
	EXPECT_EQ(mtb_live_create(&l, "127.0.0.1:99999", nullptr, &eb), MTB_ERR_ARG);
	EXPECT_EQ(mtb_live_create(&l, ":80", nullptr, &eb), MTB_ERR_ARG);
	mtb_live_destroy(nullptr);
}

TEST(Live, EventsArriveInOrderAndLateViewersGetTheHistory)
{
	Server s;
	EXPECT_EQ(mtb_live_event(s.live, "{\"type\":\"session\",\"id\":\"S1\"}"), MTB_OK);
	EXPECT_EQ(mtb_live_event(s.live, "{\"type\":\"state\",\"state\":\"purge\"}"), MTB_OK);
	EXPECT_EQ(mtb_live_event(s.live, "{\"type\":\"flow\",\"flow_lph\":10.0}"), MTB_OK);
	EXPECT_EQ(mtb_live_event(s.live, "{\"type\":\"flow\",\"flow_lph\":11.0}"), MTB_OK);
	/* not one line of JSON: refused, never sent */
	EXPECT_EQ(mtb_live_event(s.live, "{\"type\":\"x\"}\ndata: forged"), MTB_ERR_ARG);
	EXPECT_EQ(mtb_live_event(s.live, "plain"), MTB_ERR_ARG);

	int fd = open_events(s.port);
	std::string got = read_until(fd, "11.0");
	EXPECT_NE(got.find("Content-Type: text/event-stream"), std::string::npos) << got;
	auto d = data_lines(got);
	/* session, history, then only the latest flow */
	ASSERT_EQ(d.size(), 3u) << got;
	EXPECT_EQ(d[0], "{\"type\":\"session\",\"id\":\"S1\"}");
	EXPECT_EQ(d[1], "{\"type\":\"state\",\"state\":\"purge\"}");
	EXPECT_EQ(d[2], "{\"type\":\"flow\",\"flow_lph\":11.0}");

	for (int i = 0; i < 100; i++)
		mtb_live_event(s.live, ("{\"type\":\"reading\",\"n\":" + std::to_string(i) + "}").c_str());
	got = read_until(fd, "\"n\":99}");
	d = data_lines(got);
	ASSERT_EQ(d.size(), 100u);
	for (int i = 0; i < 100; i++)
		EXPECT_EQ(d[i], "{\"type\":\"reading\",\"n\":" + std::to_string(i) + "}");
	close(fd);

	/* A reconnecting browser sends Last-Event-ID and gets only what it missed. */
	auto all = ids(got);
	fd = open_events(s.port, "Last-Event-ID: " + std::to_string(all[97]) + "\r\n");
	got = read_until(fd, "\"n\":99}");
	d = data_lines(got);
	ASSERT_EQ(d.size(), 2u) << got;
	EXPECT_EQ(d[0], "{\"type\":\"reading\",\"n\":98}");
	close(fd);
}

TEST(Live, ASlowViewerIsDisconnectedNeverShownAGapAndDoesNotHoldUpOthers)
{
	struct mtb_live_opts o = {};
	o.event_queue_len = 32;
	Server s(o);
	int slow = open_events(s.port);
	int fast = open_events(s.port);
	read_until(slow, "retry: 2000");
	read_until(fast, "retry: 2000");
	/* The fast viewer reads as the events come; the slow one reads nothing until the end. */
	std::string fast_got;
	const int N = 3000;
	std::string pad(2000, 'x');
	std::atomic<int> fast_n{ 0 };   /* events the fast viewer has received */
	std::thread reader([&] {
		std::string until = "\"n\":" + std::to_string(N - 1) + ",";
		char buf[65536];
		size_t scanned = 0;
		int got = 0;
		for (int idle_ms = 0; idle_ms < 30000 && fast_got.find(until) == std::string::npos;) {
			pollfd p = { fast, POLLIN, 0 };
			if (poll(&p, 1, 50) == 0) {
				idle_ms += 50;
				continue;
			}
			ssize_t n = recv(fast, buf, sizeof buf, 0);
			if (n <= 0)
				break;
			fast_got.append(buf, (size_t)n);
			for (size_t at; (at = fast_got.find("\n\n", scanned)) != std::string::npos; scanned = at + 2)
				got++;   /* an event is complete at its blank line */
			fast_n = got;
		}
	});
	/* Bursts of 8 events, never more than 16 ahead of what the fast viewer has received (its
	 * queue holds 32): it keeps up however the machine schedules it, while the slow one, which
	 * reads nothing, falls behind by thousands. */
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(mtb_live_event(s.live, ("{\"type\":\"reading\",\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad +
						  "\"}").c_str()), MTB_OK);
		for (int waited_ms = 0; i % 8 == 7 && i + 1 - fast_n.load() > 16 && waited_ms < 10000; waited_ms++)
			usleep(1000);
	}
	reader.join();
	auto fd_ = data_lines(fast_got);
	ASSERT_EQ(fd_.size(), (size_t)N);   /* every event, in order */
	auto fi = ids(fast_got);
	for (size_t i = 1; i < fi.size(); i++)
		ASSERT_EQ(fi[i], fi[i - 1] + 1);

	bool closed = false;
	std::string slow_got = read_until(slow, "", 20000, &closed);
	EXPECT_TRUE(closed) << "the slow viewer was not disconnected";
	auto si = ids(slow_got);
	EXPECT_LT(si.size(), (size_t)N);
	for (size_t i = 1; i < si.size(); i++)
		ASSERT_EQ(si[i], si[i - 1] + 1) << "a gap in the slow viewer's stream";
	close(slow);
	close(fast);
}

TEST(Live, FiftyConcurrentViewersAllGetEveryEventAndTheCapHolds)
{
	struct mtb_live_opts o = {};
	o.max_viewers = 50;
	Server s(o);
	std::vector<int> fds;
	for (int i = 0; i < 50; i++) {
		fds.push_back(open_events(s.port));
		ASSERT_NE(read_until(fds.back(), "retry: 2000").find("200 OK"), std::string::npos) << i;
	}
	std::string over = get(s.port, "/events");
	EXPECT_EQ(status_of(over), 503) << over;
	/* a page load still gets a worker while the streams are at their cap */
	EXPECT_EQ(status_of(get(s.port, "/")), 200);
	for (int i = 0; i < 20; i++)
		mtb_live_event(s.live, ("{\"type\":\"state\",\"n\":" + std::to_string(i) + "}").c_str());
	for (int fd : fds) {
		auto d = data_lines(read_until(fd, "\"n\":19}"));
		EXPECT_EQ(d.size(), 20u);
		close(fd);
	}
	/* the places are given back when the viewers leave (found at the next write to them) */
	mtb_live_event(s.live, "{\"type\":\"state\",\"n\":20}");
	usleep(100000);
	mtb_live_event(s.live, "{\"type\":\"state\",\"n\":21}");
	std::string again;
	for (int tries = 0; tries < 100 && status_of(again) != 200; tries++) {
		usleep(100000);
		int fd = open_events(s.port);
		again = read_until(fd, "retry: 2000", 2000);
		close(fd);
	}
	EXPECT_EQ(status_of(again), 200);
}

TEST(Live, CameraStreamDrawsTheReadingAndSlowViewersSkipFrames)
{
	struct mtb_live_opts o = {};
	o.n_cameras = 2;
	Server s(o);
	auto plain = test_jpeg(320, 240, 200);
	ASSERT_EQ(mtb_live_frame(s.live, 1, plain.data(), plain.size(), nullptr), MTB_OK);
	EXPECT_EQ(mtb_live_frame(s.live, 3, plain.data(), plain.size(), nullptr), MTB_ERR_ARG);
	EXPECT_EQ(mtb_live_frame(s.live, 0, plain.data(), plain.size(), nullptr), MTB_ERR_ARG);

	int fd = dial(s.port);
	send_all(fd, "GET /camera/1.mjpeg HTTP/1.1\r\nHost: x\r\n\r\n");
	std::string got = read_until(fd, "", 700);   /* the first frame, then silence */
	std::string hdr = got.substr(0, 200);
	EXPECT_NE(hdr.find("multipart/x-mixed-replace; boundary=mtbframe"), std::string::npos) << hdr;
	auto p = parts(got);
	ASSERT_GE(p.size(), 1u);
	EXPECT_EQ(p[0], std::string(plain.begin(), plain.end()));   /* no overlay: the bytes as they came */
	/* Chromium shows a part once it has the next part's headers: those follow the frame at once,
	 * not when the next frame comes (else every frame would be shown one frame late). */
	EXPECT_TRUE(last_part_closed(got)) << "the part's closing boundary and the next headers are not sent yet";

	struct mtb_live_overlay ov = {};
	snprintf(ov.text, sizeof ov.text, "0123.4567 L");
	ov.x_px = 100;
	ov.y_px = 120;
	ov.w_px = 150;
	ov.h_px = 60;
	ASSERT_EQ(mtb_live_frame(s.live, 1, plain.data(), plain.size(), &ov), MTB_OK);
	got += read_until(fd, "", 1500);
	p = parts(got);
	ASSERT_GE(p.size(), 2u);
	EXPECT_TRUE(last_part_closed(got));
	struct mtb_image *img;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_image_decode(p.back().data(), p.back().size(), &img, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(img->channels, 3);
	/* the rectangle's left edge is amber (B low, R high) where the frame was plain grey */
	const uint8_t *px = mtb_image_row(img, 150) + 100 * 3;
	EXPECT_GT(px[2], 200);
	EXPECT_LT(px[0], 100);
	/* the label sits above the rectangle on a dark box */
	const uint8_t *lab = mtb_image_row(img, 120 - 10) + 102 * 3;
	EXPECT_LT(lab[0] + lab[1] + lab[2], 3 * 120);
	/* far from the overlay the frame is unchanged */
	const uint8_t *far = mtb_image_row(img, 230) + 300 * 3;
	EXPECT_NEAR(far[1], 200, 12);
	mtb_image_destroy(img);
	close(fd);

	/* A viewer that reads nothing while 200 frames pass gets the newest, not a backlog. */
	fd = dial(s.port);
	send_all(fd, "GET /camera/2.mjpeg HTTP/1.1\r\nHost: x\r\n\r\n");
	std::string head = read_until(fd, "Connection: close\r\n\r\n");
	std::vector<std::vector<unsigned char>> frames;
	/* Each frame carries 256 KiB after its end marker (decoders ignore it): 200 of them are far
	 * more than the loopback socket buffers hold, so a server that queued every frame for this
	 * viewer would block instead of skipping, whatever the scheduling. */
	for (int i = 0; i < 200; i++) {
		frames.push_back(test_jpeg(64, 48, (uint8_t)i));
		frames.back().resize(frames.back().size() + 256 * 1024, 0);
	}
	for (int i = 0; i < 200; i++)
		ASSERT_EQ(mtb_live_frame(s.live, 2, frames[i].data(), frames[i].size(), nullptr), MTB_OK);
	usleep(300000);
	got = head + read_until(fd, "", 1500);
	p = parts(got);
	ASSERT_GE(p.size(), 1u);
	EXPECT_LT(p.size(), 200u);
	EXPECT_EQ(p.back(), std::string(frames[199].begin(), frames[199].end()));
	close(fd);

	EXPECT_EQ(status_of(get(s.port, "/camera/3.mjpeg")), 404);
	EXPECT_EQ(status_of(get(s.port, "/camera/x.mjpeg")), 404);
	EXPECT_EQ(status_of(get(s.port, "/camera/1.jpg")), 404);
}

namespace {
struct Ctl {
	std::atomic<int> calls{ 0 };
	std::string last;
};
int on_control(void *user, const char *action)
{
	auto *c = (Ctl *)user;
	c->calls++;
	c->last = action;
	return strcmp(action, "abort") == 0 ? MTB_OK : MTB_ERR_NOTSUP;
}
std::string post(int port, const std::string &path, const std::string &headers = "")
{
	return request(port, "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + headers + "\r\n");
}
} // namespace

TEST(Live, ControlNeedsTheOperatorToken)
{
	{
		Server open;   /* no token set: control is off whatever is sent */
		EXPECT_EQ(status_of(post(open.port, "/control/abort", "Authorization: Bearer \r\n")), 403);
	}
	struct mtb_live_opts o = {};
	o.operator_token = "s3cret-token";
	Server s(o);
	Ctl ctl;
	EXPECT_EQ(status_of(post(s.port, "/control/abort", "Authorization: Bearer s3cret-token\r\n")), 503);
	mtb_live_set_control(s.live, on_control, &ctl);
	EXPECT_EQ(status_of(post(s.port, "/control/abort")), 401);
	EXPECT_EQ(status_of(post(s.port, "/control/abort", "Authorization: Bearer s3cret-toke\r\n")), 401);
	EXPECT_EQ(status_of(post(s.port, "/control/abort", "Authorization: Bearer s3cret-token2\r\n")), 401);
	EXPECT_EQ(status_of(post(s.port, "/control/abort", "Authorization: Basic s3cret-token\r\n")), 401);
	EXPECT_EQ(status_of(get(s.port, "/control/abort", "Authorization: Bearer s3cret-token\r\n")), 405);
	EXPECT_EQ(ctl.calls.load(), 0);
	EXPECT_EQ(status_of(post(s.port, "/control/abort", "Authorization: Bearer s3cret-token\r\n")), 200);
	EXPECT_EQ(ctl.calls.load(), 1);
	EXPECT_EQ(ctl.last, "abort");
	EXPECT_EQ(status_of(post(s.port, "/control/launch", "Authorization: Bearer s3cret-token\r\n")), 404);
	EXPECT_EQ(status_of(post(s.port, "/control/ABORT", "Authorization: Bearer s3cret-token\r\n")), 404);
	EXPECT_EQ(ctl.calls.load(), 2);
	/* everything else is read-only */
	EXPECT_EQ(status_of(post(s.port, "/events")), 405);
}

TEST(Live, UnknownPathsHugeHeadersAndMalformedRequestsAreRefused)
{
	struct mtb_live_opts o = {};
	o.static_dir = MTB_SOURCE_DIR "/bench/live";
	Server s(o);
	EXPECT_EQ(status_of(get(s.port, "/nope")), 404);
	EXPECT_EQ(status_of(get(s.port, "/static/../../../etc/passwd")), 404);
	EXPECT_EQ(status_of(get(s.port, "/static/%2e%2e/CMakeLists.txt")), 404);
	EXPECT_EQ(status_of(get(s.port, "/static/.hidden.js")), 404);
	EXPECT_EQ(status_of(get(s.port, "/static/missing.js")), 404);
	EXPECT_EQ(status_of(get(s.port, "/fonts/../../etc/passwd")), 404);
	EXPECT_EQ(status_of(get(s.port, "/report/customer.pdf")), 404);   /* not written yet */

	std::string huge = get(s.port, "/", "X-Big: " + std::string(64 * 1024, 'a') + "\r\n");
	EXPECT_TRUE(huge.empty() || status_of(huge) == 413 || status_of(huge) == 400) << huge.substr(0, 80);
	std::string many;
	for (int i = 0; i < 2000; i++)
		many += "X-H" + std::to_string(i) + ": v\r\n";
	std::string r = get(s.port, "/", many);
	EXPECT_TRUE(r.empty() || status_of(r) >= 400) << r.substr(0, 80);
	r = request(s.port, "GARBAGE\r\n\r\n");
	EXPECT_TRUE(r.empty() || status_of(r) == 400) << r.substr(0, 80);
	r = request(s.port, "GET\r\n\r\n");
	EXPECT_TRUE(r.empty() || status_of(r) >= 400) << r.substr(0, 80);
	r = request(s.port, std::string("GET /\0x HTTP/1.1\r\n\r\n", 20));
	EXPECT_TRUE(r.empty() || status_of(r) >= 400) << r.substr(0, 80);
	/* a client that sends half a request and stalls does not block the server */
	int stall = dial(s.port);
	send_all(stall, "GET / HTTP/1.1\r\nHo");

	/* and after all that the server still serves */
	r = get(s.port, "/");
	EXPECT_EQ(status_of(r), 200) << r.substr(0, 80);
	EXPECT_NE(r.find("text/html"), std::string::npos);
	close(stall);
}

TEST(Live, QrCodeAndReportOfTheCustomersCopy)
{
	struct mtb_live_opts o = {};
	Server s(o);
	std::string q = get(s.port, "/qr.svg");
	EXPECT_EQ(status_of(q), 200);
	EXPECT_NE(q.find("X-Report-Url: http://127.0.0.1/report/customer.pdf"), std::string::npos) << q.substr(0, 300);
	EXPECT_NE(q.find("<svg"), std::string::npos);
	/* a Host header that is not a plain host name is not echoed into the link */
	q = request(s.port, "GET /qr.svg HTTP/1.1\r\nHost: evil\"<x>\r\n\r\n");
	EXPECT_EQ(q.find("evil"), std::string::npos);

	char tmpl[] = "/tmp/mtb-live-XXXXXX";
	std::string dir = mkdtemp(tmpl);
	std::string pdf = dir + "/report-customer.pdf";
	FILE *f = fopen(pdf.c_str(), "wb");
	fputs("%PDF-1.5 test", f);
	fclose(f);
	ASSERT_EQ(mtb_live_set_report(s.live, pdf.c_str()), MTB_OK);
	std::string r = get(s.port, "/report/customer.pdf");
	EXPECT_EQ(status_of(r), 200);
	EXPECT_NE(r.find("application/pdf"), std::string::npos);
	EXPECT_NE(r.find("%PDF-1.5 test"), std::string::npos);
	std::system(("rm -rf " + dir).c_str());
}

TEST(Live, EventsFromTheRunsData)
{
	struct mtb_session_view *s = (struct mtb_session_view *)calloc(1, sizeof *s);
	snprintf(s->id, sizeof s->id, "20261123T000000Z-0000abcd");
	snprintf(s->mode, sizeof s->mode, "dispute");
	snprintf(s->rule_set, sizeof s->rule_set, "r49-2013");
	snprintf(s->cert_number, sizeof s->cert_number, "CAL-2026-0412");
	snprintf(s->customer, sizeof s->customer, "王小明 \"A\"");
	snprintf(s->status, sizeof s->status, "complete");
	s->bench_time_s = 296.5;
	s->n_meters = 1;
	s->meters[0].position = 1;
	snprintf(s->meters[0].serial, sizeof s->meters[0].serial, "TW-13-0042117");
	s->meters[0].n_points = 1;
	struct mtb_point_view *p = &s->meters[0].points[0];
	snprintf(p->name, sizeof p->name, "Q2");
	p->point_index = 1;
	p->actual_ul = 506728;
	p->indicated_ul = 479008;
	p->error_ppm = -54704;
	p->mpe_ppm = 40000;
	p->u_exp_ppm = 1849;
	snprintf(p->verdict, sizeof p->verdict, "fail");

	char *j = mtb_live_json_session(s);
	ASSERT_NE(j, nullptr);
	std::string js = j;
	EXPECT_EQ(js.rfind("{\"type\":\"session\",\"id\":\"20261123T000000Z-0000abcd\"", 0), 0u) << js;
	EXPECT_NE(js.find("\"customer\":\"王小明 \\\"A\\\"\""), std::string::npos) << js;
	EXPECT_NE(js.find("\"cert_number\":\"CAL-2026-0412\""), std::string::npos);
	EXPECT_NE(js.find("\"disputed\":true"), std::string::npos);
	free(j);
	j = mtb_live_json_point(1, p);
	js = j;
	EXPECT_NE(js.find("\"error_pct\":-5.4704,\"mpe_pct\":4.0,\"u_exp_pct\":0.1849"), std::string::npos) << js;
	EXPECT_NE(js.find("\"actual_l\":0.506728"), std::string::npos) << js;
	free(j);
	j = mtb_live_json_verdict(s);
	js = j;
	EXPECT_NE(js.find("\"meters\":[{\"position\":1,\"serial\":\"TW-13-0042117\",\"verdict\":\"fail\"}]"), std::string::npos) << js;
	EXPECT_NE(js.find("\"bench_time_s\":296.5"), std::string::npos) << js;
	free(j);
	struct mtb_reading_record r = {};
	r.position = 1;
	r.phase = "end";
	r.t_mono_us = 42;
	r.volume_ul = -1;
	j = mtb_live_json_reading(1, "Q2", &r);
	js = j;
	EXPECT_NE(js.find("\"volume_l\":null"), std::string::npos) << js;
	free(j);
	r.volume_ul = 1243430000;
	r.confidence = 0.97;
	j = mtb_live_json_reading(1, "Q2", &r);
	js = j;
	EXPECT_NE(js.find("\"volume_l\":1243.43,\"confidence\":0.97"), std::string::npos) << js;
	free(j);
	free(s);
}

TEST(Live, ProgressSendsEveryStateChangeAndPacesFlow)
{
	struct mtb_clock_manual m = { 0 };
	struct mtb_clock clk = mtb_clock_manual_make(&m);
	struct mtb_live_opts o = {};
	o.flow_period_ms = 200;
	o.clock = &clk;
	Server s(o);
	int fd = open_events(s.port);
	read_until(fd, "retry: 2000");
	struct mtb_run_progress p = {};
	p.state = MTB_RUN_STABILISE;
	p.n_points = 3;
	p.point_name = "Q1";
	for (int i = 0; i < 50; i++) {   /* 50 samples 10 ms apart: 500 ms */
		p.flow_lph = 16 + i * 0.01;
		mtb_live_progress(s.live, &p);
		m.t_us += 10000;
	}
	p.state = MTB_RUN_START;   /* a state change goes out at once, with its flow */
	mtb_live_progress(s.live, &p);
	std::string got = read_until(fd, "\"state\":\"start\"");
	got += read_until(fd, "", 300);
	auto d = data_lines(got);
	int states = 0, flows = 0;
	for (auto &x : d) {
		flows += x.find("{\"type\":\"flow\"") == 0 ? 1 : 0;
		states += x.find("{\"type\":\"state\"") == 0 ? 1 : 0;
	}
	EXPECT_EQ(states, 2);
	EXPECT_EQ(flows, 4);   /* at 0, 200 and 400 ms, and with the state change */
	close(fd);
}

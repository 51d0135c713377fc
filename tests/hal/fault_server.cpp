#include "fault_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

extern char **environ;

namespace {

// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), low byte first on the wire.
uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

std::unique_ptr<FaultServer> FaultServer::tcp(int port)
{
	std::unique_ptr<FaultServer> s(new FaultServer);
	s->is_tcp_ = true;
	s->port_ = port;
	if (pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0)
		throw std::runtime_error("pipe");
	int fd = s->open_listener();
	if (fd < 0)
		throw std::runtime_error("cannot listen");
	close(fd);   // the thread opens its own; port_ is now fixed
	s->thread_ = std::thread([p = s.get()] { p->run(); });
	std::unique_lock<std::mutex> l(s->mu_);
	s->cv_.wait(l, [&] { return s->paused_ack_; });   // listening before we return
	return s;
}

std::unique_ptr<FaultServer> FaultServer::rtu(const std::string &device)
{
	std::unique_ptr<FaultServer> s(new FaultServer);
	s->is_tcp_ = false;
	s->device_ = device;
	if (pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0)
		throw std::runtime_error("pipe");
	s->thread_ = std::thread([p = s.get()] { p->run(); });
	std::unique_lock<std::mutex> l(s->mu_);
	s->cv_.wait(l, [&] { return s->paused_ack_; });   // device open before we return
	return s;
}

FaultServer::~FaultServer()
{
	{
		std::lock_guard<std::mutex> l(mu_);
		stop_ = true;
	}
	wake();
	if (thread_.joinable())
		thread_.join();
	for (auto &m : maps_)
		modbus_mapping_free(m.second);
	close(wake_[0]);
	close(wake_[1]);
}

void FaultServer::wake()
{
	char c = 1;
	(void)!write(wake_[1], &c, 1);
}

int FaultServer::open_listener()
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port_);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0) {
		close(fd);
		return -1;
	}
	socklen_t len = sizeof a;
	getsockname(fd, (sockaddr *)&a, &len);
	port_ = ntohs(a.sin_port);
	return fd;
}

void FaultServer::inject(Fault fault, int count, int param)
{
	std::lock_guard<std::mutex> l(mu_);
	fault_ = fault;
	fault_count_ = count;
	fault_param_ = param;
}

void FaultServer::hold_next(std::function<bool()> until)
{
	{
		std::lock_guard<std::mutex> l(hold_mu_);
		hold_until_ = std::move(until);
		holds_released_ = false;
	}
	inject(HOLD, 1);
}

void FaultServer::release_holds()
{
	std::lock_guard<std::mutex> l(hold_mu_);
	holds_released_ = true;
	hold_until_ = nullptr;
}

void FaultServer::pause()
{
	std::unique_lock<std::mutex> l(mu_);
	paused_ = true;
	paused_ack_ = false;
	l.unlock();
	wake();
	l.lock();
	cv_.wait(l, [this] { return paused_ack_; });
}

void FaultServer::resume()
{
	std::unique_lock<std::mutex> l(mu_);
	paused_ = false;
	paused_ack_ = false;
	l.unlock();
	wake();
	l.lock();
	cv_.wait(l, [this] { return paused_ack_; });
}

bool FaultServer::take_fault(Fault *f, int *param)
{
	std::lock_guard<std::mutex> l(mu_);
	if (fault_count_ <= 0)
		return false;
	fault_count_--;
	*f = fault_;
	*param = fault_param_;
	return true;
}

modbus_mapping_t *FaultServer::map(int unit)
{
	auto it = maps_.find(unit);
	if (it != maps_.end())
		return it->second;
	modbus_mapping_t *m = modbus_mapping_new(256, 256, 256, 256);
	maps_[unit] = m;
	return m;
}

void FaultServer::set_holding(int unit, int addr, uint16_t v) { std::lock_guard<std::mutex> l(mu_); map(unit)->tab_registers[addr] = v; }
void FaultServer::set_input(int unit, int addr, uint16_t v) { std::lock_guard<std::mutex> l(mu_); map(unit)->tab_input_registers[addr] = v; }
void FaultServer::set_coil(int unit, int addr, bool v) { std::lock_guard<std::mutex> l(mu_); map(unit)->tab_bits[addr] = v; }
void FaultServer::set_discrete(int unit, int addr, bool v) { std::lock_guard<std::mutex> l(mu_); map(unit)->tab_input_bits[addr] = v; }
uint16_t FaultServer::holding(int unit, int addr) { std::lock_guard<std::mutex> l(mu_); return map(unit)->tab_registers[addr]; }
bool FaultServer::coil(int unit, int addr) { std::lock_guard<std::mutex> l(mu_); return map(unit)->tab_bits[addr] != 0; }
std::vector<FaultServer::Seen> FaultServer::seen() { std::lock_guard<std::mutex> l(mu_); return seen_; }
void FaultServer::clear_seen() { std::lock_guard<std::mutex> l(mu_); seen_.clear(); }

void FaultServer::run()
{
	if (is_tcp_)
		run_tcp();
	else
		run_rtu();
}

// Handles one request. TCP replies go straight to the client; RTU replies are built by
// libmodbus into a socketpair (out_fd) so that they can be corrupted before they leave.
void FaultServer::handle(modbus_t *ctx, const uint8_t *q, int len, int header, int *client_fd, int out_fd)
{
	int unit = q[header - 1], fn = q[header];
	int addr = (q[header + 1] << 8) | q[header + 2];
	{
		std::lock_guard<std::mutex> l(mu_);
		seen_.push_back({ unit, fn, addr });
	}
	Fault f = NONE;
	int param = 0;
	take_fault(&f, &param);
	switch (f) {
	case NO_REPLY:
		return;
	case DISCONNECT:
		if (client_fd && *client_fd >= 0) {
			close(*client_fd);
			*client_fd = -1;
		}
		return;
	case LATE:
		sleep_ms(param);
		break;
	case HOLD:
		for (;;) {
			{
				std::lock_guard<std::mutex> l(mu_);
				if (stop_)
					return;
			}
			{
				std::lock_guard<std::mutex> l(hold_mu_);
				if (holds_released_ || !hold_until_ || hold_until_())
					break;
			}
			sleep_ms(1);
		}
		break;
	default:
		break;
	}
	modbus_set_slave(ctx, unit);
	if (f == EXCEPTION) {
		modbus_reply_exception(ctx, q, (unsigned)param);
	} else {
		std::lock_guard<std::mutex> l(mu_);
		modbus_reply(ctx, q, len, map(unit));
	}
	if (out_fd >= 0) {
		uint8_t rsp[512];
		ssize_t n = read(out_fd, rsp, sizeof rsp);
		if (n <= 0)
			return;
		if (f == BAD_CRC)
			rsp[n - 1] ^= 0x5A;
		(void)!write(*client_fd, rsp, (size_t)n);
	}
}

void FaultServer::run_tcp()
{
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", port_);
	int lfd = open_listener();
	std::vector<int> clients;
	uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
	for (;;) {
		{
			std::unique_lock<std::mutex> l(mu_);
			if (stop_)
				break;
			bool want_paused = paused_;
			if (!paused_ack_) {
				if (want_paused) {
					if (lfd >= 0)
						close(lfd);
					lfd = -1;
					for (int c : clients)
						close(c);
					clients.clear();
				} else if (lfd < 0) {
					lfd = open_listener();
				}
				paused_ack_ = true;
				cv_.notify_all();
			}
		}
		std::vector<pollfd> fds;
		fds.push_back({ wake_[0], POLLIN, 0 });
		if (lfd >= 0)
			fds.push_back({ lfd, POLLIN, 0 });
		size_t first_client = fds.size();
		for (int c : clients)
			fds.push_back({ c, POLLIN, 0 });
		if (poll(fds.data(), fds.size(), 200) <= 0)
			continue;
		if (fds[0].revents) {
			char buf[64];
			while (read(wake_[0], buf, sizeof buf) > 0)
				;
		}
		if (lfd >= 0 && fds[1].revents & POLLIN) {
			int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
			if (c >= 0)
				clients.push_back(c);
		}
		for (size_t i = first_client; i < fds.size(); i++) {
			if (!fds[i].revents)
				continue;
			int fd = fds[i].fd;
			modbus_set_socket(ctx, fd);
			int n = modbus_receive(ctx, q);
			if (n < 0) {
				close(fd);
				fd = -1;
			} else if (n > 0) {
				handle(ctx, q, n, 7, &fd, -1);
			}
			if (fd < 0)
				for (auto it = clients.begin(); it != clients.end(); ++it)
					if (*it == fds[i].fd) {
						clients.erase(it);
						break;
					}
		}
	}
	for (int c : clients)
		close(c);
	if (lfd >= 0)
		close(lfd);
	modbus_set_socket(ctx, -1);
	modbus_free(ctx);
}

void FaultServer::run_rtu()
{
	int fd = open(device_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		termios t{};
		tcgetattr(fd, &t);
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	int sp[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	modbus_t *ctx = modbus_new_rtu("/dev/null", 115200, 'N', 8, 1);
	modbus_set_socket(ctx, sp[0]);
	uint8_t frame[MODBUS_RTU_MAX_ADU_LENGTH + 16];
	size_t have = 0;
	for (;;) {
		{
			std::unique_lock<std::mutex> l(mu_);
			if (stop_)
				break;
			if (!paused_ack_) {
				paused_ack_ = true;
				cv_.notify_all();
			}
		}
		pollfd fds[2] = { { wake_[0], POLLIN, 0 }, { fd, POLLIN, 0 } };
		// A frame ends with a silence (t3.5); on a pty 3 ms is plenty.
		int timeout = have ? 3 : 200;
		int n = poll(fds, fd >= 0 ? 2 : 1, timeout);
		if (fds[0].revents) {
			char buf[64];
			while (read(wake_[0], buf, sizeof buf) > 0)
				;
			continue;
		}
		if (n > 0 && (fds[1].revents & POLLIN)) {
			ssize_t r = read(fd, frame + have, sizeof frame - have);
			if (r > 0)
				have += (size_t)r;
			if (have == sizeof frame)
				have = 0;   // garbage: start over
			continue;
		}
		if (n == 0 && have) {
			bool paused;
			{
				std::lock_guard<std::mutex> l(mu_);
				paused = paused_;
			}
			if (!paused && have >= 4) {
				uint16_t crc = crc16(frame, have - 2);
				if (frame[have - 2] == (crc & 0xFF) && frame[have - 1] == (crc >> 8))
					handle(ctx, frame, (int)have, 1, &fd, sp[1]);
			}
			have = 0;
		}
	}
	modbus_set_socket(ctx, -1);
	modbus_free(ctx);
	close(sp[0]);
	close(sp[1]);
	if (fd >= 0)
		close(fd);
}

PtyPair::PtyPair(const std::string &dir) : dir_(dir) { start_socat(); }

PtyPair::~PtyPair() { kill_socat(); }

void PtyPair::start_socat()
{
	unlink(a().c_str());
	unlink(b().c_str());
	std::string la = "pty,raw,echo=0,link=" + a(), lb = "pty,raw,echo=0,link=" + b();
	const char *argv[] = { "socat", la.c_str(), lb.c_str(), nullptr };
	if (posix_spawnp(&pid_, "socat", nullptr, nullptr, (char **)argv, environ) != 0)
		throw std::runtime_error("cannot start socat");
	struct stat st;
	for (int i = 0; i < 500; i++) {
		if (stat(a().c_str(), &st) == 0 && stat(b().c_str(), &st) == 0)
			return;
		sleep_ms(5);
	}
	throw std::runtime_error("socat did not create its ptys");
}

void PtyPair::kill_socat()
{
	if (pid_ > 0) {
		kill(pid_, SIGTERM);
		waitpid(pid_, nullptr, 0);
		pid_ = -1;
	}
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - (std::string(path) == "/proc/self/fd" ? 1 : 0);   // opendir's own descriptor
}

int count_fds() { return count_dir("/proc/self/fd"); }
int count_threads() { return count_dir("/proc/self/task"); }

std::string make_temp_dir()
{
	const char *t = getenv("TMPDIR");
	std::string tmpl = std::string(t && *t ? t : "/tmp") + "/mtb-hal-XXXXXX";
	std::vector<char> buf(tmpl.begin(), tmpl.end());
	buf.push_back('\0');
	if (!mkdtemp(buf.data()))
		throw std::runtime_error("mkdtemp");
	return buf.data();
}

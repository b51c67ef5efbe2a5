#include "ops/status_server.hpp"

#include "core/mutex.hpp"
#include "ops/metrics.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace h2r {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A connection in the admission table.
struct Slot {
  std::string client;                    // the peer's address
  socket_t sock = INVALID_SOCKET;
  std::atomic<bool> waiting{false};      // blocked waiting for the client's bytes: may be evicted
  std::atomic<long long> waiting_since{0};
  std::atomic<bool> evicted{false};
};

long long steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch()).count();
}

void address_of(socket_t sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  const int rc = peer ? ::getpeername(sock, reinterpret_cast<sockaddr*>(&address), &length)
                      : ::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length);
  ip.clear();
  port = 0;
  if (rc != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    if (::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text)) ip = text;
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    if (::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text)) ip = text;
    port = ntohs(v6->sin6_port);
  }
}

// The socket under httplib's request parser: every read is bounded by the I/O timeout and by the
// request's deadline, and the bytes of one request are counted (lines and bytes before the body, then
// the body's bytes, chunk framing included), so no client can hold a thread or grow memory past a cap.
class GuardedStream final : public httplib::Stream {
public:
  GuardedStream(Slot& slot, const StatusServerOptions& options) : m_slot(slot), m_options(options) {}

  // Waits for the first byte of a request (keep-alive idle time: at most `timeout`).
  bool wait_for_request(std::chrono::milliseconds timeout) {
    m_slot.waiting_since = steady_ms();
    if (m_begin < m_end) return true;
    return wait(POLLIN, steady_ms() + timeout.count()) && fill() > 0;
  }

  void begin_request() {
    m_deadline_ms = steady_ms() + m_options.request_timeout.count();
    m_slot.waiting_since = steady_ms();
    m_write_deadline_ms = 0;
    m_header_lines = 0;
    m_header_bytes = 0;
    m_line_length = 0;
    m_body_bytes = 0;
    m_in_headers = true;
  }

  bool is_readable() const override { return m_begin < m_end || poll_once(POLLIN, m_options.io_timeout.count()); }
  bool is_writable() const override { return poll_once(POLLOUT, m_options.io_timeout.count()); }

  // A read was cut short by the deadline, a cap or an eviction: the connection must close after the
  // answer (a 400 or 413), never wait for another request.
  bool broken() const { return m_broken; }

  ssize_t read(char* ptr, size_t size) override {
    if (m_begin == m_end) {
      if (!wait(POLLIN, m_deadline_ms)) {
        m_broken = true;
        return -1;
      }
      const ssize_t got = fill();
      if (got <= 0) return got;
    }
    const std::size_t n = std::min(size, m_end - m_begin);
    if (!count(m_buffer + m_begin, n)) {
      m_broken = true;
      return -1;
    }
    std::memcpy(ptr, m_buffer + m_begin, n);
    m_begin += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (m_write_deadline_ms == 0) m_write_deadline_ms = steady_ms() + m_options.request_timeout.count();
    if (!wait(POLLOUT, m_write_deadline_ms)) return -1;
    return ::send(m_slot.sock, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(m_slot.sock, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(m_slot.sock, false, ip, port); }
  socket_t socket() const override { return m_slot.sock; }

private:
  bool poll_once(short events, long long timeout_ms) const {
    pollfd p{m_slot.sock, events, 0};
    return ::poll(&p, 1, static_cast<int>(std::max(0LL, timeout_ms))) > 0;
  }

  // Until the socket is ready, at most the I/O timeout and never past `deadline_ms`; false after a
  // timeout or an eviction. While waiting for a read, the slot may be evicted (the oldest request first).
  bool wait(short events, long long deadline_ms) {
    const long long start = steady_ms();
    const long long until = std::min(deadline_ms, start + static_cast<long long>(m_options.io_timeout.count()));
    if (events == POLLIN) m_slot.waiting = true;
    bool ready = false;
    for (;;) {
      const long long left = until - steady_ms();
      if (left <= 0 || m_slot.evicted) break;
      pollfd p{m_slot.sock, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left));
      if (rc > 0) {
        ready = true;
        break;
      }
      if (rc < 0 && errno != EINTR) break;
    }
    m_slot.waiting = false;
    return ready && !m_slot.evicted;
  }

  ssize_t fill() {
    ssize_t got;
    do {
      got = ::recv(m_slot.sock, m_buffer, sizeof m_buffer, 0);
    } while (got < 0 && errno == EINTR);
    m_begin = 0;
    m_end = got > 0 ? static_cast<std::size_t>(got) : 0;
    return got;
  }

  // Counts `n` bytes handed to the parser; false when they break a cap.
  bool count(const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!m_in_headers) {
        m_body_bytes += n - i;
        // Chunk framing (sizes, CRLFs, trailers) on top of the body: a 16 KiB margin.
        return m_body_bytes <= m_options.max_body_bytes + 16 * 1024;
      }
      ++m_header_bytes;
      if (data[i] == '\n') {
        ++m_header_lines;
        if (m_line_length == 0) m_in_headers = false;   // the empty line ends the headers
        m_line_length = 0;
      } else if (data[i] != '\r') {
        ++m_line_length;
      }
      if (m_header_lines > m_options.max_header_lines || m_header_bytes > m_options.max_header_bytes) return false;
    }
    return true;
  }

  Slot& m_slot;
  const StatusServerOptions& m_options;
  char m_buffer[4096];
  std::size_t m_begin = 0, m_end = 0;
  long long m_deadline_ms = 0, m_write_deadline_ms = 0;
  std::size_t m_header_lines = 0, m_header_bytes = 0, m_line_length = 0, m_body_bytes = 0;
  bool m_in_headers = true;
  bool m_broken = false;
};

// httplib's server with its connection loop replaced (process_and_close_socket is virtual): an
// admission table with the caps of StatusServerOptions and GuardedStream under every request.
class GuardedServer final : public httplib::Server {
public:
  explicit GuardedServer(const StatusServerOptions& options) : m_options(options) {}

private:
  bool process_and_close_socket(socket_t sock) override {
    Slot slot;
    slot.sock = sock;
    int port = 0;
    address_of(sock, true, slot.client, port);
    bool ret = false;
    if (admit(slot)) {
      GuardedStream stream(slot, m_options);
      for (std::size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
        if (!stream.wait_for_request(m_options.io_timeout)) break;
        stream.begin_request();
        bool closed = false;
        ret = process_request(stream, left == 1, closed, nullptr);
        if (!ret || closed || stream.broken()) break;
      }
      release(slot);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ret;
  }

  // Takes a place in the table, evicting the longest waiting connection of this client (over the
  // per-client cap) or of anyone (over the total cap); false when nothing can be evicted.
  bool admit(Slot& slot) {
    MutexLock lock(m_mutex);
    auto live = [&](const std::string* client) H2R_REQUIRES(m_mutex) {
      return static_cast<int>(std::count_if(m_slots.begin(), m_slots.end(), [&](const Slot* s) {
        return !s->evicted && (!client || s->client == *client);
      }));
    };
    auto evict = [&](const std::string* client) H2R_REQUIRES(m_mutex) {
      Slot* oldest = nullptr;
      for (Slot* s : m_slots)
        if (!s->evicted && s->waiting && (!client || s->client == *client) &&
            (!oldest || s->waiting_since < oldest->waiting_since))
          oldest = s;
      if (!oldest) return false;
      oldest->evicted = true;
      ::shutdown(oldest->sock, SHUT_RDWR);
      return true;
    };
    if (live(&slot.client) >= std::max(1, m_options.max_connections_per_client) && !evict(&slot.client)) return false;
    if (live(nullptr) >= std::max(1, m_options.max_connections) && !evict(nullptr)) return false;
    m_slots.push_back(&slot);
    return true;
  }

  void release(Slot& slot) {
    MutexLock lock(m_mutex);
    m_slots.remove(&slot);
  }

  const StatusServerOptions m_options;
  Mutex m_mutex;
  std::list<Slot*> m_slots H2R_GUARDED_BY(m_mutex);
};

// /metrics and /healthz against DNS rebinding: a page on a name that resolves to this machine must not
// read them, so a Host header naming a host is refused unless it is localhost, this machine's name or
// a configured one. An IP address (what a scraper or load balancer uses) is fine: rebinding always
// comes with a name. No Host header at all (an HTTP/1.0 probe) is not a browser either.
bool status_host_allowed(const std::string& header, const std::vector<std::string>& names) {
  if (header.empty()) return true;
  if (header.size() > 300) return false;
  std::string host;
  if (header.front() == '[') {
    const auto close = header.find(']');
    if (close == std::string::npos) return false;
    in6_addr v6{};
    return ::inet_pton(AF_INET6, header.substr(1, close - 1).c_str(), &v6) == 1;
  }
  host = header.substr(0, header.find(':'));
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return true;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (host == "localhost") return true;
  char own[256] = {};
  if (::gethostname(own, sizeof own - 1) == 0 && own[0] != '\0') {
    std::string name = own;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (host == name || host.rfind(name + ".", 0) == 0) return true;
  }
  return std::find(names.begin(), names.end(), host) != names.end();
}

bool refuse_host(const httplib::Request& req, httplib::Response& res, const std::vector<std::string>& names) {
  if (status_host_allowed(req.get_header_value("Host"), names)) return false;
  res.status = 403;
  res.set_content("this Host is not allowed: use localhost, an IP address or this machine's name\n", "text/plain; charset=utf-8");
  return true;
}

} // namespace

Result<ListenAddress> parse_listen(const std::string& listen) {
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::invalid, "listen: '" + listen + "' " + why + " (expected host:port or [v6]:port)");
  };
  ListenAddress address;
  std::string port_text;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return bad("is not a valid [IPv6]:port");
    address.host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad("has no host:port");
    address.host = listen.substr(0, colon);
    if (address.host.find(':') != std::string::npos) return bad("has an IPv6 address without [brackets]");
    port_text = listen.substr(colon + 1);
  }
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
    return bad("has no port number 0..65535");
  address.port = port;
  return address;
}

StatusServer::StatusServer(StatusHandlers handlers, StatusServerOptions options)
    : m_handlers(std::move(handlers)), m_options(options) {}

StatusServer::~StatusServer() { stop(); }

Result<int> StatusServer::start(const std::string& listen) {
  auto address = parse_listen(listen);
  if (!address) return unexpected(std::move(address).error());
  // A `listen` on a host name is reached by that name.
  if (!address->host.empty()) {
    std::string name = address->host;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    m_options.hosts.push_back(name);
  }
  m_server = std::make_unique<GuardedServer>(m_options);
  m_server->set_payload_max_length(m_options.max_body_bytes);
  const auto io = m_options.io_timeout;
  m_server->set_read_timeout(io);
  m_server->set_write_timeout(io);
  m_server->set_keep_alive_timeout(std::max<long long>(1, (io.count() + 999) / 1000));
  const auto threads = static_cast<std::size_t>(std::max(1, m_options.threads));
  m_server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR (a restart finds the port in TIME_WAIT) but not httplib's default SO_REUSEPORT, which
  // would let a second daemon share the port silently instead of failing to bind.
  m_server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  m_server->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    if (refuse_host(req, res, m_options.hosts)) return;
    res.set_content(m_handlers.metrics(), k_metrics_content_type);
  });
  m_server->Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) {
    if (refuse_host(req, res, m_options.hosts)) return;
    HealthReport report = m_handlers.health();
    res.status = report.ok ? 200 : 503;
    res.set_content(report.reason + "\n", "text/plain; charset=utf-8");
  });
  if (m_handlers.install) m_handlers.install(*m_server);
  int port = address->port;
  bool bound = false;
  if (port == 0) {
    port = m_server->bind_to_any_port(address->host);
    bound = port > 0;
  } else {
    bound = m_server->bind_to_port(address->host, port);
  }
  if (!bound) {
    m_server.reset();
    return fail(ErrorKind::permanent, "listen: cannot bind " + listen +
                                          " (address in use, not a local address, or no permission); set `listen` "
                                          "to a free address or \"\" to turn the endpoint off");
  }
  m_port = port;
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
  // stop() only takes effect once the server runs: wait for that (it takes microseconds).
  for (int i = 0; i < 5000 && !m_server->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  spdlog::info("metrics.listening address={} port={}", address->host, m_port);
  return m_port;
}

void StatusServer::stop() {
  if (!m_server) return;
  m_server->stop();
  if (m_thread.joinable()) m_thread.join();
  m_server.reset();
}

} // namespace h2r

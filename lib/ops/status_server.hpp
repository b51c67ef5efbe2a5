// StatusServer: GET /metrics and GET /healthz over cpp-httplib on its own thread, bound to the
// config's `listen` address (loopback by default; port 0 = any free port, see port()).
#pragma once

#include "core/error.hpp"
#include "ops/health.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace h2r {

struct ListenAddress {
  std::string host;   // "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;       // 0 = any free port
};

// "host:port" or "[v6]:port" → address; kind invalid, naming `listen`, for anything else.
Result<ListenAddress> parse_listen(const std::string& listen);

struct StatusHandlers {
  std::function<std::string()> metrics;   // the Prometheus exposition
  std::function<HealthReport()> health;   // 200 "ok" or 503 with the reason
  // More routes on the same server (the admin console, lib/console/console_server.hpp); may be empty.
  std::function<void(httplib::Server&)> install;
};

// Slow, silent or greedy clients must not starve /healthz or grow memory (docs/operations.md, "Threat
// model"): each read waits at most `io_timeout`, a whole request must arrive within `request_timeout`,
// at most `max_connections` (and `max_connections_per_client` from one address) are served at once,
// and a request has at most `max_header_lines` lines and `max_header_bytes` before its body and
// `max_body_bytes` of body (chunked or not). A connection beyond a cap evicts the one that has waited
// longest for its request's bytes (from that client first), so a new /healthz is always served; one
// that finds nothing to evict is closed at once. Beyond a size cap: 400 or 413, then the connection closes.
struct StatusServerOptions {
  int threads = 64;                                  // pool threads; more than max_connections
  std::chrono::milliseconds io_timeout{2'000};       // read, write and keep-alive timeout
  std::chrono::milliseconds request_timeout{10'000}; // a whole request (line, headers, body) must arrive in this
  int max_connections = 48;
  int max_connections_per_client = 16;
  std::size_t max_header_lines = 100;                // request line and headers
  std::size_t max_header_bytes = 32 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  // Host names (lower case, no port) /metrics and /healthz answer to besides localhost, this machine's
  // name and IP addresses; any other Host gets 403 (DNS rebinding).
  std::vector<std::string> hosts;
};

class StatusServer {
public:
  explicit StatusServer(StatusHandlers handlers, StatusServerOptions options = {});
  ~StatusServer();   // stop()
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Binds and starts serving on a thread; returns the bound port. kind invalid for a malformed
  // `listen`, permanent when the address cannot be bound (in use, not local, no permission).
  Result<int> start(const std::string& listen);
  // Stops serving and joins the thread. Idempotent.
  void stop();
  int port() const { return m_port; }
  // Sets StatusHandlers::install before start().
  void set_install(std::function<void(httplib::Server&)> install) { m_handlers.install = std::move(install); }

private:
  StatusHandlers m_handlers;
  StatusServerOptions m_options;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
};

} // namespace h2r

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

// Slow or silent clients must not starve /healthz: each connection holds one thread of the pool for at
// most `io_timeout` per request (reading the request, writing the answer, idling on keep-alive).
struct StatusServerOptions {
  int threads = 64;                              // connections served at once
  std::chrono::milliseconds io_timeout{2'000};   // read, write and keep-alive timeout
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

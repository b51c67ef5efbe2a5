#include "ops/status_server.hpp"

#include "ops/metrics.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace h2r {

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
  m_server = std::make_unique<httplib::Server>();
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
  m_server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(m_handlers.metrics(), k_metrics_content_type);
  });
  m_server->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
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

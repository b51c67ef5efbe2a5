// HttpTransport: the seam between h2r and the network. Tests put a fake behind it to drop a
// response, stall, or answer 429; production uses HttplibTransport (keep-alive, TLS verification on).
#pragma once

#include "core/error.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace h2r {

struct HttpRequest {
  std::string method;                 // GET POST PUT PATCH DELETE
  std::string url;                    // absolute: scheme://host[:port]/path?query (already encoded)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;           // for bodies
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;   // names lower-cased
  std::string body;

  // The header's value, or "" when absent. `name` in any case.
  std::string header(const std::string& name) const;
};

class HttpTransport {
public:
  virtual ~HttpTransport() = default;
  // Sends one request. An HTTP answer of any status is a value; an error means no answer came:
  // kind transient for timeouts, resets and refused connections, permanent for TLS verification
  // failures and malformed URLs. The message names the host, never a header value.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::string ca_cert_file;          // "" = the system's trust store
  std::size_t max_idle_per_origin = 64;   // as many as scheduler.max_connection_workers by default
};

// cpp-httplib behind a pool of keep-alive clients per origin, so concurrent workers each get a
// connection of their own and reuse it. Thread-safe.
class HttplibTransport final : public HttpTransport {
public:
  explicit HttplibTransport(TransportOptions options = {});
  ~HttplibTransport() override;
  Result<HttpResponse> send(const HttpRequest& request) override;

private:
  struct Pool;
  TransportOptions m_options;
  std::mutex m_mutex;
  std::map<std::string, std::unique_ptr<Pool>> m_pools;   // by origin
};

} // namespace h2r

// HttpTransport: the seam between h2r and the network. Tests put a fake behind it to drop a
// response, stall, or answer 429; production uses CurlTransport (zoom/curl_transport.hpp: one I/O
// thread, keep-alive, TLS verification on).
#pragma once

#include "core/error.hpp"
#include "core/mutex.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace h2r {

struct HttpRequest {
  std::string method;                 // GET POST PUT PATCH DELETE
  std::string url;                    // absolute: scheme://host[:port]/path?query (already encoded)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;           // for bodies
  std::size_t max_answer_bytes = 0;   // a larger answer body is cut off, an error; 0 = the transport's cap
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
  // failures, malformed URLs and header values RFC 9110 does not allow (never sent). An answer past
  // the deadline or the size cap is a transient error. The message names the host, never a header value.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;

  using Done = std::function<void(Result<HttpResponse>)>;
  // Starts `request` and hands its result to `done`, called once: on a thread of the transport's own,
  // or at once on this thread. This one calls send() and then `done`; a transport with an I/O thread
  // (CurlTransport) returns at once and calls `done` there.
  virtual void send_async(HttpRequest request, Done done) { done(send(request)); }
};

// send() for a caller that may be a fiber (core/fiber.hpp): the fiber gives its thread back until the
// answer comes (send_async), instead of blocking it. Off fibers, or with a Mutex held, it is send().
Result<HttpResponse> send_from_fiber(HttpTransport& transport, const HttpRequest& request);

// Defaults of TransportOptions (h2rd.yaml zoom.call_deadline, zoom.max_answer_bytes; h2rd.yaml(5)).
inline constexpr std::chrono::milliseconds k_default_call_deadline{30'000};
inline constexpr std::size_t k_default_max_answer_bytes = 8u << 20;
// A token answer is a few hundred bytes: its cap whatever the configured one.
inline constexpr std::size_t k_max_token_answer_bytes = 1u << 20;

// Whether `name: value` may be sent as an HTTP header line (RFC 9110 5.1 and 5.5): the name a
// non-empty token, the value visible ASCII, obs-text, spaces and tabs only — no CR, LF, NUL or other
// control character. Empty when fine, else the problem, naming the header and the byte's position
// (never the value).
std::string header_problem(std::string_view name, std::string_view value);

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::string ca_cert_file;          // "" = the system's trust store
  std::size_t max_idle_per_origin = 64;   // as many as scheduler.max_connection_workers by default
  // The whole call — connect, send, wait, read the answer — ends by then (a drip-fed answer too).
  std::chrono::milliseconds deadline = k_default_call_deadline;
  std::size_t max_answer_bytes = k_default_max_answer_bytes;   // answer bodies, as read
};

// The transport h2rd used before CurlTransport, kept for the transports' shared contract tests
// (tests/unit/zoom/transport_test.cpp) and for comparison; to be removed once the engine calls
// send_async(). cpp-httplib behind a pool of keep-alive clients per origin, so concurrent workers
// each get a connection of their own and reuse it. Thread-safe.
class HttplibTransport final : public HttpTransport {
public:
  explicit HttplibTransport(TransportOptions options = {});
  ~HttplibTransport() override;
  Result<HttpResponse> send(const HttpRequest& request) override;

private:
  struct Pool;
  class Watchdog;
  TransportOptions m_options;
  Mutex m_mutex;
  std::map<std::string, std::unique_ptr<Pool>> m_pools H2R_GUARDED_BY(m_mutex);   // by origin
  std::unique_ptr<Watchdog> m_watchdog;                   // ends calls past their deadline
};

} // namespace h2r

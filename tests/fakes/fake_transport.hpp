// FakeTransport: an HttpTransport for unit tests. Answers are scripted per route (a substring of the
// URL) and consumed in order; a route may also have a handler that answers once its script is empty.
// A step can drop the request (no answer: a transient error, like a reset) or stall it until the test
// opens a gate. Every request is recorded. Thread-safe.
#pragma once

#include "zoom/http_transport.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace h2r::test {

class FakeTransport final : public HttpTransport {
public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  // Queues an answer for the next request whose URL contains `route`.
  void push(const std::string& route, HttpResponse response);
  // Queues "no answer" (a transient error, as a connection reset gives) for `route`.
  void push_drop(const std::string& route);
  // Queues an answer that is only given once open_gate() was called (stalls the caller until then).
  void push_stalled(const std::string& route, HttpResponse response);
  // Answers requests to `route` once its script is empty. Routes are tried longest first.
  void on(const std::string& route, Handler handler);
  void open_gate();

  Result<HttpResponse> send(const HttpRequest& request) override;

  std::vector<HttpRequest> requests() const;
  // How many requests went to a URL containing `route` (and with `method`, when given).
  int count(const std::string& route, const std::string& method = "") const;
  // Waits (real time, bounded) until `n` requests to `route` have arrived; false on timeout.
  bool wait_for_requests(const std::string& route, int n, std::chrono::milliseconds timeout) const;

private:
  struct Step {
    enum class Kind { answer, drop, stalled } kind = Kind::answer;
    HttpResponse response;
  };
  std::string route_of(const std::string& url) const;   // m_mutex held

  mutable std::mutex m_mutex;
  mutable std::condition_variable m_changed;
  std::map<std::string, std::deque<Step>> m_scripts;
  std::map<std::string, Handler> m_handlers;
  std::vector<HttpRequest> m_requests;
  bool m_gate_open = false;
};

// An answer with a JSON body and optional headers (names in any case).
HttpResponse json_response(int status, const nlohmann::json& body,
                           std::vector<std::pair<std::string, std::string>> headers = {});
// A 200 token answer: {"access_token": token, "expires_in": seconds, ...}.
HttpResponse token_response(const std::string& token, long long expires_in_s = 3600);
// A SCIM error body with `status` given as a number (Zoom) or a string (RFC 7644).
HttpResponse scim_error(int status, const std::string& detail, bool status_as_string = false);

} // namespace h2r::test

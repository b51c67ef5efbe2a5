#include "zoom/http_transport.hpp"

#include "core/fiber.hpp"
#include "core/text.hpp"

#include "zoom/transport_errors.hpp"
#include "zoom/url.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <thread>

namespace h2r {
namespace {

template <class Rep, class Period>
std::pair<time_t, time_t> sec_usec(std::chrono::duration<Rep, Period> d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1'000'000), static_cast<time_t>(us % 1'000'000)};
}

Error transport_error(httplib::Error error, const UrlParts& url) {
  switch (error) {
  case httplib::Error::SSLServerVerification: return transport::tls_unverified(url);
  case httplib::Error::SSLLoadingCerts: return transport::ca_not_loaded();
  case httplib::Error::Connection:
  case httplib::Error::ConnectionTimeout: return transport::unreachable(url, httplib::to_string(error));
  default: return transport::no_answer(url, httplib::to_string(error));
  }
}

// Only bytes cpp-httplib's encode_url leaves as they are (it rewrites space + ' , ; CR LF and
// bytes >= 0x80): letters, digits and - . _ ~ / ? = & %.
bool encoded_already(std::string_view path) {
  for (const char ch : path) {
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                       ch == '.' || ch == '_' || ch == '~' || ch == '/' || ch == '?' || ch == '=' || ch == '&' || ch == '%';
    if (!plain) return false;
  }
  return true;
}

} // namespace

// Ends calls past their deadline: one thread per transport, sleeping until the earliest deadline of
// the calls in flight, then stop()ping that call's client (cpp-httplib's thread-safe way to cut a
// socket another thread is using). A call unregisters before its client is reused or destroyed.
class HttplibTransport::Watchdog {
public:
  Watchdog() : m_thread([this] { loop(); }) {}
  ~Watchdog() {
    {
      MutexLock lock(m_mutex);
      m_stopping = true;
    }
    m_changed.notify_all();
    m_thread.join();
  }
  long long watch(httplib::Client* client, std::chrono::steady_clock::time_point deadline) {
    MutexLock lock(m_mutex);
    const long long id = ++m_next_id;
    m_calls[id] = Call{client, deadline, false};
    m_changed.notify_all();
    return id;
  }
  // Forgets call `id`; true when its deadline had passed and it was cut off.
  bool done(long long id) {
    MutexLock lock(m_mutex);
    auto it = m_calls.find(id);
    const bool fired = it != m_calls.end() && it->second.fired;
    if (it != m_calls.end()) m_calls.erase(it);
    return fired;
  }

private:
  static constexpr std::chrono::milliseconds k_restop{100};
  struct Call {
    httplib::Client* client;
    std::chrono::steady_clock::time_point deadline;
    bool fired;
  };
  void loop() {
    MutexLock lock(m_mutex);
    while (!m_stopping) {
      auto next = std::chrono::steady_clock::time_point::max();
      const auto now = std::chrono::steady_clock::now();
      for (auto& [id, call] : m_calls) {
        if (call.deadline <= now) {
          // Again every k_restop until the call returns: a socket still connecting when stop() came
          // is not cut by it (cpp-httplib only shuts a socket it has).
          call.fired = true;
          call.client->stop();
          call.deadline = now + k_restop;
        }
        next = std::min(next, call.deadline);
      }
      if (next == std::chrono::steady_clock::time_point::max())
        m_changed.wait(lock);
      else
        m_changed.wait_until(lock, next);
    }
  }
  Mutex m_mutex;
  CondVar m_changed;
  std::map<long long, Call> m_calls H2R_GUARDED_BY(m_mutex);
  long long m_next_id H2R_GUARDED_BY(m_mutex) = 0;
  bool m_stopping H2R_GUARDED_BY(m_mutex) = false;
  std::thread m_thread;   // last: starts once the members above exist
};

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(ascii_lower(name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttplibTransport::Pool {
  std::vector<std::unique_ptr<httplib::Client>> idle;
};

HttplibTransport::HttplibTransport(TransportOptions options)
    : m_options(std::move(options)), m_watchdog(std::make_unique<Watchdog>()) {}
HttplibTransport::~HttplibTransport() = default;

Result<HttpResponse> send_from_fiber(HttpTransport& transport, const HttpRequest& request) {
  // Written by `done` before it resumes this fiber; read after the fiber's thread has taken it back
  // (the resume and the switch synchronise through the fiber's thread's lock).
  std::optional<Result<HttpResponse>> result;
  const bool suspended = fiber::suspend([&](fiber::Resume resume) {
    transport.send_async(request, [&result, resume = std::move(resume)](Result<HttpResponse> answer) {
      result.emplace(std::move(answer));
      resume();
    });
  });
  if (!suspended) return transport.send(request);
  return std::move(*result);
}

Result<HttpResponse> HttplibTransport::send(const HttpRequest& request) {
  UrlParts url;
  if (auto refused = transport::refuse(request, url)) return unexpected(std::move(*refused));
  const std::string origin = url.origin();

  std::unique_ptr<httplib::Client> client;
  {
    MutexLock lock(m_mutex);
    auto& pool = m_pools[origin];
    if (!pool) pool = std::make_unique<Pool>();
    if (!pool->idle.empty()) {
      client = std::move(pool->idle.back());
      pool->idle.pop_back();
    }
  }
  if (!client) {
    client = std::make_unique<httplib::Client>(origin);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);   // no Nagle stall on small request bodies
    auto [cs, cu] = sec_usec(m_options.connect_timeout);
    client->set_connection_timeout(cs, cu);
    auto [rs, ru] = sec_usec(m_options.read_timeout);
    client->set_read_timeout(rs, ru);
    auto [ws, wu] = sec_usec(m_options.write_timeout);
    client->set_write_timeout(ws, wu);
    if (url.scheme == "https") {
      client->enable_server_certificate_verification(true);
      if (!m_options.ca_cert_file.empty()) client->set_ca_cert_path(m_options.ca_cert_file);
    }
  }

  httplib::Request req;
  req.method = request.method;
  req.path = std::move(url.path);
  for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
  if (transport::sends_body(request)) {
    req.body = request.body;
    if (!request.content_type.empty()) req.headers.emplace("Content-Type", request.content_type);
  }
  // A path that is already percent-encoded (ScimClient encodes ids and filters) is one cpp-httplib's
  // encode_url would copy unchanged: skip that pass. Anything else keeps it, as before.
  client->set_url_encode(!encoded_already(req.path));
  // send(Request&, Response&, Error&) is what send(const Request&) calls after copying the request.
  // The answer's body is gathered here, so a body past the cap ends the download instead of growing.
  const std::size_t cap = request.max_answer_bytes ? request.max_answer_bytes : m_options.max_answer_bytes;
  HttpResponse response;
  bool too_big = false;
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    if (n > cap - response.body.size()) {
      too_big = true;
      return false;
    }
    response.body.append(data, n);
    return true;
  };
  httplib::Response answer;
  httplib::Error error = httplib::Error::Success;
  const long long watch = m_watchdog->watch(client.get(), std::chrono::steady_clock::now() + m_options.deadline);
  const bool sent = client->send(req, answer, error);
  const bool past_deadline = m_watchdog->done(watch);
  if (too_big) return unexpected(transport::answer_too_big(url, cap));
  if (past_deadline) return unexpected(transport::past_deadline(url, m_options.deadline));
  if (!sent) return unexpected(transport_error(error, url));

  response.status = answer.status;
  for (auto& [name, value] : answer.headers) response.headers[ascii_lower(name)] = std::move(value);

  {
    MutexLock lock(m_mutex);
    auto& pool = m_pools[origin];
    if (pool->idle.size() < m_options.max_idle_per_origin) pool->idle.push_back(std::move(client));
  }
  return response;
}

} // namespace h2r

#include "zoom/http_transport.hpp"

#include "core/text.hpp"

#include "zoom/url.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>

namespace h2r {
namespace {

template <class Rep, class Period>
std::pair<time_t, time_t> sec_usec(std::chrono::duration<Rep, Period> d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1'000'000), static_cast<time_t>(us % 1'000'000)};
}

Error transport_error(httplib::Error error, const UrlParts& url) {
  const std::string where = url.scheme + "://" + url.host + ":" + std::to_string(url.port);
  switch (error) {
  case httplib::Error::SSLServerVerification:
    return Error{ErrorKind::permanent, "the TLS certificate of " + where + " could not be verified", 0, "", ErrorReason::tls};
  case httplib::Error::SSLLoadingCerts:
    return Error{ErrorKind::permanent, "the system's CA certificates could not be loaded", 0, "", ErrorReason::tls};
  case httplib::Error::Connection:
  case httplib::Error::ConnectionTimeout:
    return Error{ErrorKind::transient, "cannot reach " + where + " (" + httplib::to_string(error) + ")", 0, "",
                 ErrorReason::unreachable};
  default:
    return Error{ErrorKind::transient, "no answer from " + where + " (" + httplib::to_string(error) + ")", 0, "",
                 ErrorReason::no_answer};
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

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(ascii_lower(name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttplibTransport::Pool {
  std::vector<std::unique_ptr<httplib::Client>> idle;
};

HttplibTransport::HttplibTransport(TransportOptions options) : m_options(std::move(options)) {}
HttplibTransport::~HttplibTransport() = default;

Result<HttpResponse> HttplibTransport::send(const HttpRequest& request) {
  auto url = split_url(request.url);
  if (!url) return fail(ErrorKind::permanent, "not an http(s) URL: " + request.url.substr(0, 200));
  const std::string origin = url->origin();

  std::unique_ptr<httplib::Client> client;
  {
    std::lock_guard lock(m_mutex);
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
    if (url->scheme == "https") {
      client->enable_server_certificate_verification(true);
      if (!m_options.ca_cert_file.empty()) client->set_ca_cert_path(m_options.ca_cert_file);
    }
  }

  httplib::Request req;
  req.method = request.method;
  req.path = std::move(url->path);
  for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    req.body = request.body;
    if (!request.content_type.empty()) req.headers.emplace("Content-Type", request.content_type);
  }
  // A path that is already percent-encoded (ScimClient encodes ids and filters) is one cpp-httplib's
  // encode_url would copy unchanged: skip that pass. Anything else keeps it, as before.
  client->set_url_encode(!encoded_already(req.path));
  // send(Request&, Response&, Error&) is what send(const Request&) calls after copying the request.
  httplib::Response answer;
  httplib::Error error = httplib::Error::Success;
  if (!client->send(req, answer, error)) return unexpected(transport_error(error, *url));

  HttpResponse response;
  response.status = answer.status;
  response.body = std::move(answer.body);
  for (auto& [name, value] : answer.headers) response.headers[ascii_lower(name)] = std::move(value);

  {
    std::lock_guard lock(m_mutex);
    auto& pool = m_pools[origin];
    if (pool->idle.size() < m_options.max_idle_per_origin) pool->idle.push_back(std::move(client));
  }
  return response;
}

} // namespace h2r

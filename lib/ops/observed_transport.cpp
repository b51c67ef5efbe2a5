#include "ops/observed_transport.hpp"

#include "core/text.hpp"
#include "zoom/url.hpp"

#include <spdlog/spdlog.h>

namespace h2r {

bool ObservedTransport::is_token_request(const HttpRequest& request) {
  return request.method == "POST" && request.url.find("grant_type=account_credentials") != std::string::npos;
}

Result<HttpResponse> ObservedTransport::send(const HttpRequest& request) {
  auto response = m_inner.send(request);
  observe(request, response);
  return response;
}

void ObservedTransport::send_async(HttpRequest request, Done done) {
  if (!is_token_request(request)) return m_inner.send_async(std::move(request), std::move(done));
  // A token request: the URL is kept for the log line (what it needs of the request).
  HttpRequest seen;
  seen.method = request.method;
  seen.url = request.url;
  m_inner.send_async(std::move(request), [this, seen = std::move(seen), done = std::move(done)](Result<HttpResponse> r) {
    observe(seen, r);
    done(std::move(r));
  });
}

void ObservedTransport::observe(const HttpRequest& request, const Result<HttpResponse>& response) {
  if (!is_token_request(request)) return;
  const bool ok = response && response->status == 200;
  m_metrics.count_token(ok);
  if (!ok) {
    // The origin only: the query names the account, the headers carry the client secret.
    auto parts = split_url(request.url);
    spdlog::warn("token.refresh_failed origin={} status={} error=\"{}\"", parts ? parts->origin() : "?",
                 response ? std::to_string(response->status) : "none",
                 response ? std::string("token endpoint refused the request") : escape_for_log(response.error().message));
  }
}

} // namespace h2r

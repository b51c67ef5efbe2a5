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
  if (!is_token_request(request)) return response;
  const bool ok = response && response->status == 200;
  m_metrics.count_token(ok);
  if (!ok) {
    // The origin only: the query names the account, the headers carry the client secret.
    auto parts = split_url(request.url);
    spdlog::warn("token.refresh_failed origin={} status={} error=\"{}\"", parts ? parts->origin() : "?",
                 response ? std::to_string(response->status) : "none",
                 response ? std::string("token endpoint refused the request") : escape_for_log(response.error().message));
  }
  return response;
}

} // namespace h2r

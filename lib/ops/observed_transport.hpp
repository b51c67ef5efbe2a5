// ObservedTransport: an HttpTransport decorator that sees OAuth token requests (which bypass the
// ScimClient observer) to count them for /metrics and log `token.refresh_failed`. Thread-safe when
// the wrapped transport is.
#pragma once

#include "ops/metrics.hpp"
#include "zoom/http_transport.hpp"

namespace h2r {

class ObservedTransport final : public HttpTransport {
public:
  ObservedTransport(HttpTransport& inner, Metrics& metrics) : m_inner(inner), m_metrics(metrics) {}
  Result<HttpResponse> send(const HttpRequest& request) override;

  // True for Zoom's Server-to-Server token request (POST ...?grant_type=account_credentials...).
  static bool is_token_request(const HttpRequest& request);

private:
  HttpTransport& m_inner;
  Metrics& m_metrics;
};

} // namespace h2r

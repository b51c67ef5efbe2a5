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
  // The wrapped transport's own send_async (a fiber's call must not fall back to a blocking send()).
  void send_async(HttpRequest request, Done done) override;

  // True for Zoom's Server-to-Server token request (POST ...?grant_type=account_credentials...).
  static bool is_token_request(const HttpRequest& request);

private:
  void observe(const HttpRequest& request, const Result<HttpResponse>& response);

  HttpTransport& m_inner;
  Metrics& m_metrics;
};

} // namespace h2r

#include "engine/connection_probe.hpp"

namespace h2r {

Result<ProbeReport> probe_connection(const ZoomConnection& connection, HttpTransport& transport, const Clock& clock) {
  TokenCache tokens(transport, clock);
  auto token = tokens.get(connection.name, connection.credentials);
  if (!token) {
    Error error = std::move(token).error();
    if (error.reason == ErrorReason::unreachable)
      error.message = "cannot reach the OAuth endpoint " + connection.credentials.oauth_url + ": " + error.message;
    return unexpected(std::move(error));
  }
  RateLimiter limiter(0);
  ScimClientOptions options;
  options.max_rate_limit_retries = 1;
  ScimClient client(connection, transport, tokens, limiter, clock, options);
  auto page = client.list_users(1, 1);
  if (!page) {
    Error error = std::move(page).error();
    if (error.reason == ErrorReason::unreachable)
      error.message = "token fetched, but cannot reach the SCIM API " + connection.api_url + ": " + error.message;
    else if (error.kind == ErrorKind::not_found)
      error.message = "token fetched, but " + connection.api_url + "/Users does not exist: check --api-url (" +
                      error.message + ")";
    return unexpected(std::move(error));
  }
  return ProbeReport{page->total};
}

} // namespace h2r

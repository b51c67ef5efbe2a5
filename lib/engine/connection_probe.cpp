#include "engine/connection_probe.hpp"

#include "engine/connection_registry.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

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

Result<ProbeReport> test_stored_connection(Store& store, const SecretBox& box, const std::string& name,
                                           HttpTransport& transport, const Clock& clock) {
  auto row = H2R_TRY(store.get_connection(name));
  if (!row) return unexpected(Error::not_found("no connection named '" + name + "'"));
  auto connection = H2R_TRY(zoom_connection(*row, box));
  auto report = probe_connection(connection, transport, clock);
  auto existing = store.get_connection_health(name);
  ConnectionHealth health = existing && *existing ? **existing : ConnectionHealth{name};
  const long long now = to_unix_ms(clock.now());
  health.healthy = report.has_value();
  if (report) {
    health.last_success_at_ms = now;
    health.paused_until_ms = 0;
    health.pause_reason.clear();
    health.pause_kind = PauseKind::none;
  } else {
    health.last_error = report.error().message;
    health.last_error_at_ms = now;
  }
  // The probe's answer stands whatever the store says; a failed write is logged, not dropped.
  if (auto written = store.put_connection_health(health); !written)
    spdlog::warn("connection.health_write_failed connection={} error=\"{}\"", escape_for_log(name),
                 escape_for_log(written.error().message));
  return report;
}

bool unknown_connection(const Result<ProbeReport>& report) {
  // Zoom's 404s carry their HTTP status; the store's "no such name" none.
  return !report && report.error().kind == ErrorKind::not_found && report.error().http_status == 0;
}

nlohmann::json probe_json(const std::string& name, const Result<ProbeReport>& report) {
  nlohmann::json out = {{"connection", name}, {"ok", report.has_value()}};
  if (report) {
    out["user_count"] = report->user_count;
  } else {
    const Error& e = report.error();
    out["error"] = {{"code", e.code.empty() ? std::string(to_string(e.reason)) : e.code}, {"message", e.message}};
  }
  return out;
}

} // namespace h2r

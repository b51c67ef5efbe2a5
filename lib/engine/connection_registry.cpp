#include "engine/connection_registry.hpp"

#include <spdlog/spdlog.h>

namespace h2r {

Result<ZoomConnection> zoom_connection(const ConnectionRow& row, const SecretBox& box) {
  auto secret = box.open(row.secret_blob, row.name);
  if (!secret)
    return fail(ErrorKind::permanent, "connection " + row.name + ": cannot decrypt its client secret (" +
                                          secret.error().message + ")");
  ZoomConnection connection;
  connection.name = row.name;
  connection.credentials = {row.account_id, row.client_id, std::move(*secret), row.oauth_url};
  connection.api_url = row.api_url;
  return connection;
}

ConnectionRegistry::ConnectionRegistry(Store& store, const SecretBox& box, HttpTransport& transport,
                                       const Clock& clock, ScimClientOptions client_options)
    : m_store(store), m_box(box), m_transport(transport), m_clock(clock),
      m_client_options(std::move(client_options)), m_tokens(transport, clock) {}

ConnectionRegistry::Live& ConnectionRegistry::live(const std::string& name) { return m_live[name]; }

Result<std::shared_ptr<ScimClient>> ConnectionRegistry::client(const std::string& name) {
  std::lock_guard lock(m_mutex);
  Live& l = live(name);
  if (l.client) return l.client;
  auto row = m_store.get_connection(name);
  if (!row) return unexpected(std::move(row).error());
  if (!*row) return fail(ErrorKind::not_found, "no connection named '" + name + "' (see `h2rd connection list`)");
  auto connection = zoom_connection(**row, m_box);
  if (!connection) return unexpected(std::move(connection).error());
  double rate = (*row)->rate_limit > 0 ? (*row)->rate_limit : k_default_rate_limit;
  if (!l.limiter)
    l.limiter = std::make_shared<RateLimiter>(rate);
  else
    l.limiter->set_rate(rate);
  l.client = std::make_shared<ScimClient>(std::move(*connection), m_transport, m_tokens, *l.limiter, m_clock,
                                          m_client_options);
  return l.client;
}

std::shared_ptr<RateLimiter> ConnectionRegistry::limiter(const std::string& name) {
  std::lock_guard lock(m_mutex);
  return live(name).limiter;
}

void ConnectionRegistry::reset() {
  std::lock_guard lock(m_mutex);
  for (auto& [name, l] : m_live) {
    l.client.reset();
    l.unhealthy = false;
    l.consecutive_failures = 0;
    m_tokens.forget(name);
  }
}

void ConnectionRegistry::persist(const std::string& name, const Live& l, const Error* error) {
  auto existing = m_store.get_connection_health(name);
  ConnectionHealth health;
  if (existing && *existing) health = **existing;
  health.name = name;
  health.healthy = !l.unhealthy && l.open_until <= m_clock.now();
  long long now = to_unix_ms(m_clock.now());
  if (error) {
    health.last_error = error->message;
    health.last_error_at_ms = now;
  } else {
    health.last_success_at_ms = now;
  }
  health.paused_until_ms = l.open_until > m_clock.now() ? to_unix_ms(l.open_until) : 0;
  health.pause_reason = l.unhealthy ? l.unhealthy_reason : (health.paused_until_ms ? "circuit open" : "");
  if (auto r = m_store.put_connection_health(health); !r)
    spdlog::warn("store.write_failed what=connection_health connection={} error=\"{}\"", name, r.error().message);
}

void ConnectionRegistry::record_success(const std::string& name) {
  std::lock_guard lock(m_mutex);
  Live& l = live(name);
  bool was_bad = l.unhealthy || l.consecutive_failures > 0;
  l.consecutive_failures = 0;
  l.unhealthy = false;
  l.open_until = {};
  if (was_bad) spdlog::info("connection.recovered connection={}", name);
  persist(name, l, nullptr);
}

void ConnectionRegistry::record_failure(const std::string& name, const Error& error) {
  std::lock_guard lock(m_mutex);
  Live& l = live(name);
  const bool token_refused = error.code == "invalid_client" || error.code == "unsupported_grant_type" ||
                             error.code == "4711";
  if (token_refused) {
    if (!l.unhealthy)
      spdlog::error("connection.unhealthy connection={} code={} reason=\"{}\"", name, error.code, error.message);
    l.unhealthy = true;
    l.unhealthy_reason = error.message;
    l.unhealthy_since_ms = to_unix_ms(m_clock.now());
  } else if (error.kind == ErrorKind::transient && error.code != "rate_limited" && error.code != "daily_limit") {
    if (++l.consecutive_failures >= k_breaker_threshold && l.open_until <= m_clock.now()) {
      l.open_until = m_clock.now() + k_breaker_cooldown;
      spdlog::warn("connection.circuit_open connection={} failures={} cooldown_s={}", name,
                   l.consecutive_failures, k_breaker_cooldown.count());
    }
  } else {
    return;   // an error about one user says nothing about the connection
  }
  persist(name, l, &error);
}

HealthVerdict ConnectionRegistry::verdict(const std::string& name) {
  std::lock_guard lock(m_mutex);
  Live& l = live(name);
  if (l.unhealthy) {
    // Healed from outside: `h2rd connection test` or `update` succeeded (another process) since.
    auto health = m_store.get_connection_health(name);
    auto row = m_store.get_connection(name);
    bool tested_ok = health && *health && (*health)->last_success_at_ms > l.unhealthy_since_ms;
    bool updated = row && *row && (*row)->updated_at_ms > l.unhealthy_since_ms;
    if (tested_ok || updated) {
      spdlog::info("connection.recovered connection={} by={}", name, updated ? "update" : "test");
      l.unhealthy = false;
      l.client.reset();
      m_tokens.forget(name);
    }
  }
  if (l.unhealthy) return {false, "connection " + name + " is unhealthy: " + l.unhealthy_reason};
  if (l.open_until > m_clock.now())
    return {false, "connection " + name + " is paused after repeated failures (circuit open)"};
  return {};
}

} // namespace h2r

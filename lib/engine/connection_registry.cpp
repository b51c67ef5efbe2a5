#include "engine/connection_registry.hpp"

#include "zoom/url.hpp"

#include "core/time.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace h2r {

Result<ZoomConnection> zoom_connection(const ConnectionRow& row, const SecretBox& box) {
  // Checked again at use: a row from before the rule (or edited in the database) must not leak either.
  for (const auto& [what, url] : {std::pair{"oauth_url", &row.oauth_url}, std::pair{"api_url", &row.api_url}})
    if (auto problem = insecure_url_problem(what, *url, row.allow_insecure_http))
      return fail(ErrorKind::permanent, "connection " + row.name + ": " + *problem);
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
  if (!l.limiter) {
    l.limiter = std::make_shared<RateLimiter>(rate);
    restore_pause(name, l);
  } else {
    l.limiter->set_rate(rate);
  }
  l.client = std::make_shared<ScimClient>(std::move(*connection), m_transport, m_tokens, *l.limiter, m_clock,
                                          m_client_options);
  return l.client;
}

void ConnectionRegistry::restore_pause(const std::string& name, Live& l) {
  auto health = m_store.get_connection_health(name);
  if (!health || !*health) return;
  const SystemTime until = from_unix_ms((*health)->paused_until_ms);
  if (until > m_clock.now() && (*health)->pause_reason.rfind(k_daily_limit_reason, 0) == 0) {
    l.daily_until = until;
    l.limiter->pause_until(until, k_daily_limit_reason);
    spdlog::warn("connection.paused connection={} reason=\"daily limit\" until={} note=\"restored\"", name,
                 format_utc(until));
  }
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
    l.probing = false;
    m_tokens.forget(name);
  }
}

void ConnectionRegistry::persist(const std::string& name, const Live& l, const Error* error) {
  auto existing = m_store.get_connection_health(name);
  ConnectionHealth health;
  if (existing && *existing) health = **existing;
  health.name = name;
  const SystemTime now = m_clock.now();
  health.healthy = !l.unhealthy && l.open_until <= now && l.daily_until <= now;
  long long now_ms = to_unix_ms(now);
  if (error) {
    health.last_error = error->message;
    health.last_error_at_ms = now_ms;
  } else {
    health.last_success_at_ms = now_ms;
  }
  SystemTime paused = std::max(l.open_until, l.daily_until);
  health.paused_until_ms = paused > now ? to_unix_ms(paused) : 0;
  if (l.unhealthy)
    health.pause_reason = l.unhealthy_reason;
  else if (l.daily_until > now)
    health.pause_reason = std::string(k_daily_limit_reason) + " reached (Zoom's X-RateLimit-Type: Daily-limit) until " +
                          format_utc(l.daily_until);
  else if (l.open_until > now)
    health.pause_reason = "circuit open after " + std::to_string(l.consecutive_failures) + " failures in a row";
  else
    health.pause_reason.clear();
  if (auto r = m_store.put_connection_health(health); !r)
    spdlog::warn("store.write_failed what=connection_health connection={} error=\"{}\"", name, r.error().message);
}

void ConnectionRegistry::record_success(const std::string& name) {
  std::lock_guard lock(m_mutex);
  Live& l = live(name);
  const bool was_bad = l.unhealthy || l.consecutive_failures > 0 || l.probing;
  l.consecutive_failures = 0;
  l.unhealthy = false;
  l.probing = false;
  l.open_until = {};
  if (was_bad) spdlog::info("connection.recovered connection={}", name);
  // Persisting every success would cost a write per call; once a second is enough for `status`.
  const SystemTime now = m_clock.now();
  if (was_bad || now - l.last_persisted >= std::chrono::seconds(1)) {
    l.last_persisted = now;
    persist(name, l, nullptr);
  }
}

void ConnectionRegistry::record_failure(const std::string& name, const Error& error) {
  std::lock_guard lock(m_mutex);
  Live& l = live(name);
  const SystemTime now = m_clock.now();
  const bool token_refused = error.code == "invalid_client" || error.code == "unsupported_grant_type" ||
                             error.code == "4711";
  if (token_refused) {
    if (!l.unhealthy)
      spdlog::critical("connection.unhealthy connection={} code={} reason=\"{}\" action=\"calls stopped until "
                       "`h2rd connection test {}` or `connection update` succeeds\"",
                       name, error.code, error.message, name);
    l.unhealthy = true;
    l.probing = false;
    l.unhealthy_reason = error.message;
    l.unhealthy_since_ms = to_unix_ms(now);
  } else if (error.daily_limit) {
    const SystemTime until = error.retry_at.value_or(now + std::chrono::hours(1));
    if (until <= l.daily_until) return;   // already known
    l.daily_until = until;
    if (l.limiter) l.limiter->pause_until(until, k_daily_limit_reason);
    spdlog::error("connection.paused connection={} reason=\"daily limit\" until={}", name, format_utc(until));
  } else if (error.code == "paused" || error.code == "rate_limited") {
    return;   // paced: nothing wrong with the connection
  } else if (error.kind == ErrorKind::transient) {
    ++l.consecutive_failures;
    const bool probe_failed = l.probing;
    l.probing = false;
    if ((probe_failed || l.consecutive_failures >= k_breaker_threshold) && l.open_until <= now) {
      l.open_until = now + k_breaker_cooldown;
      spdlog::warn("connection.circuit_open connection={} failures={} cooldown_s={} last_error=\"{}\"", name,
                   l.consecutive_failures, k_breaker_cooldown.count(), error.message);
    } else if (l.consecutive_failures < k_breaker_threshold) {
      return;   // a lone failure: not worth a write
    }
  } else {
    // An error about one user (400, 404, 409, ...): the connection answered, so the circuit closes.
    if (l.consecutive_failures == 0 && !l.probing) return;
    l.consecutive_failures = 0;
    l.probing = false;
    l.open_until = {};
    persist(name, l, nullptr);
    return;
  }
  persist(name, l, &error);
}

HealthVerdict ConnectionRegistry::verdict(const std::string& name) {
  std::lock_guard lock(m_mutex);
  Live& l = live(name);
  const SystemTime now = m_clock.now();
  if (l.unhealthy) {
    // Healed from outside: `h2rd connection test` or `update` succeeded (another process) since.
    auto health = m_store.get_connection_health(name);
    auto row = m_store.get_connection(name);
    bool tested_ok = health && *health && (*health)->last_success_at_ms > l.unhealthy_since_ms;
    bool updated = row && *row && (*row)->updated_at_ms > l.unhealthy_since_ms;
    if (tested_ok || updated) {
      spdlog::info("connection.recovered connection={} by={}", name, updated ? "update" : "test");
      l.unhealthy = false;
      l.consecutive_failures = 0;
      l.open_until = {};
      l.client.reset();
      m_tokens.forget(name);
    }
  }
  if (l.unhealthy) return {false, "connection " + name + " is unhealthy: " + l.unhealthy_reason, std::nullopt, false};
  if (l.daily_until > now)
    return {false, "connection " + name + " is paused by Zoom's daily limit until " + format_utc(l.daily_until),
            l.daily_until, true};
  if (l.open_until > now)
    return {false, "connection " + name + " is paused after " + std::to_string(l.consecutive_failures) +
                       " failures in a row (circuit open until " + format_utc(l.open_until) + ")",
            l.open_until, false};
  if (l.consecutive_failures >= k_breaker_threshold) {
    // Half-open: one probe at a time; a probe that never reports back is replaced after a cool-down.
    if (!l.probing || now - l.probe_started > k_breaker_cooldown) {
      l.probing = true;
      l.probe_started = now;
      spdlog::info("connection.probe connection={}", name);
      return {};
    }
    return {false, "connection " + name + " is being probed after repeated failures", now + k_probe_wait, false};
  }
  return {};
}

} // namespace h2r

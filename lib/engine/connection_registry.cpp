#include "engine/connection_registry.hpp"

#include "core/text.hpp"
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
                                       const Clock& clock, ScimClientOptions client_options, BreakerConfig breaker)
    : m_store(store), m_box(box), m_transport(transport), m_clock(clock),
      m_client_options(std::move(client_options)), m_breaker_config(breaker), m_tokens(transport, clock) {}

ConnectionRegistry::Live& ConnectionRegistry::live(const std::string& name) {
  Live& l = m_live[name];
  if (!l.breaker) l.breaker.emplace(m_breaker_config);
  return l;
}

Result<std::shared_ptr<ScimClient>> ConnectionRegistry::client(const std::string& name) {
  MutexLock lock(m_mutex);
  Live& l = live(name);
  if (l.client) return l.client;
  auto row = m_store.get_connection(name);
  if (!row) return unexpected(std::move(row).error());
  if (!*row) return fail(ErrorKind::not_found, "no connection named '" + name + "' (see `h2rd connection list`)");
  auto connection = zoom_connection(**row, m_box);
  if (!connection) return unexpected(std::move(connection).error());
  l.base_rate = (*row)->rate_limit > 0 ? (*row)->rate_limit : k_default_rate_limit;
  if (!l.limiter) {
    l.limiter = std::make_shared<RateLimiter>(l.base_rate);
    l.limiter->set_share(m_share);
    // Several daemons on this database: the account's rate is one schedule in the database, drawn in
    // grants (Store::take_pace_grant); alone (SQLite), the limiter paces by itself, no round trip.
    if (m_store.shared()) l.limiter->set_source(pace_source(name));
    restore_pause(name, l);
  } else {
    l.limiter->set_rate(l.base_rate);
  }
  // The connection's latency feeds its concurrency (engine/dispatcher.hpp); calls that got no answer
  // (timeouts) say nothing about it.
  ScimClientOptions options = m_client_options;
  options.observer = [latency = l.latency, outer = m_client_options.observer](const ScimCallRecord& call) {
    if (call.status != 0) latency->observe(call.latency);
    if (outer) outer(call);
  };
  l.client = std::make_shared<ScimClient>(std::move(*connection), m_transport, m_tokens, *l.limiter, m_clock,
                                          std::move(options));
  return l.client;
}

void ConnectionRegistry::restore_pause(const std::string& name, Live& l) {
  auto health = m_store.get_connection_health(name);
  if (!health || !*health) return;
  const SystemTime until = from_unix_ms((*health)->paused_until_ms);
  if (until > m_clock.now() && (*health)->pause_kind == PauseKind::daily_limit) {
    l.daily_until = until;
    l.limiter->pause_until(until, k_daily_limit_reason);
    spdlog::warn("connection.paused connection={} reason=\"daily limit\" until={} note=\"restored\"", escape_for_log(name),
                 format_utc(until));
  }
}

SlotSource ConnectionRegistry::pace_source(const std::string& name) {
  return [&store = m_store, name](SystemTime from, std::chrono::nanoseconds interval, int count) -> std::optional<SlotGrant> {
    const long long from_us = std::chrono::duration_cast<std::chrono::microseconds>(from.time_since_epoch()).count();
    const long long interval_us = (interval.count() + 999) / 1000;   // rounded up: never faster than the rate
    auto grant = store.take_pace_grant(name, from_us, std::max(1LL, interval_us), count);
    if (!grant) {
      spdlog::warn("pacing.fallback connection={} error=\"{}\" note=\"paced at its share of the rate limit for {} ms\"",
                   escape_for_log(name), escape_for_log(grant.error().message), k_pace_fallback.count());
      return std::nullopt;
    }
    return SlotGrant{SystemTime{} + std::chrono::microseconds(grant->first_us), grant->count,
                     std::chrono::microseconds(grant->interval_us)};
  };
}

std::shared_ptr<RateLimiter> ConnectionRegistry::limiter(const std::string& name) {
  MutexLock lock(m_mutex);
  return live(name).limiter;
}

ConnectionRegistry::Pace ConnectionRegistry::pace(const std::string& name) {
  MutexLock lock(m_mutex);
  Live& l = live(name);
  return {l.limiter ? l.limiter->rate() : 0.0, l.latency->value()};
}

void ConnectionRegistry::set_share(int daemons) {
  MutexLock lock(m_mutex);
  daemons = std::max(1, daemons);
  if (daemons == m_share) return;
  spdlog::info("pacing.shared daemons={} before={}", daemons, m_share);
  m_share = daemons;
  for (auto& [name, l] : m_live)
    if (l.limiter) l.limiter->set_share(m_share);
}

std::map<std::string, std::pair<long long, long long>> ConnectionRegistry::pace_counters() const {
  MutexLock lock(m_mutex);
  std::map<std::string, std::pair<long long, long long>> counters;
  for (const auto& [name, l] : m_live) {
    if (!l.limiter) continue;
    const long long grants = l.limiter->grants(), fallbacks = l.limiter->fallbacks();
    if (grants > 0 || fallbacks > 0) counters[name] = {grants, fallbacks};
  }
  return counters;
}

int ConnectionRegistry::share() const {
  MutexLock lock(m_mutex);
  return m_share;
}

void ConnectionRegistry::reset() {
  MutexLock lock(m_mutex);
  for (auto& [name, l] : m_live) {
    l.client.reset();
    l.unhealthy = false;
    l.breaker->reset();
    m_tokens.forget(name);
  }
}

void ConnectionRegistry::set_breaker_config(const BreakerConfig& config) {
  MutexLock lock(m_mutex);
  m_breaker_config = config;
  for (auto& [name, l] : m_live)
    if (l.breaker) l.breaker->configure(config);
}

BreakerConfig ConnectionRegistry::breaker_config() const {
  MutexLock lock(m_mutex);
  return m_breaker_config;
}

void ConnectionRegistry::persist(const std::string& name, const Live& l, const Error* error) {
  auto existing = m_store.get_connection_health(name);
  ConnectionHealth health;
  if (existing && *existing) health = **existing;
  health.name = name;
  const SystemTime now = m_clock.now();
  const SystemTime open_until = l.breaker->state(now) == CircuitBreaker::State::closed ? SystemTime{} : l.breaker->open_until();
  health.healthy = !l.unhealthy && open_until <= now && l.daily_until <= now;
  long long now_ms = to_unix_ms(now);
  if (error) {
    health.last_error = error->message;
    health.last_error_at_ms = now_ms;
  } else {
    health.last_success_at_ms = now_ms;
  }
  SystemTime paused = std::max(open_until, l.daily_until);
  health.paused_until_ms = paused > now ? to_unix_ms(paused) : 0;
  health.pause_kind = PauseKind::none;
  if (l.unhealthy) {
    health.pause_kind = PauseKind::unhealthy;
    health.pause_reason = l.unhealthy_reason;
  } else if (l.daily_until > now) {
    health.pause_kind = PauseKind::daily_limit;
    health.pause_reason = std::string(k_daily_limit_reason) + " reached (Zoom's X-RateLimit-Type: Daily-limit) until " +
                          format_utc(l.daily_until);
  } else if (open_until > now) {
    health.pause_kind = PauseKind::circuit_open;
    health.pause_reason = "circuit open: " + std::to_string(l.breaker->tripped_failures()) + " of the last " +
                          std::to_string(l.breaker->tripped_calls()) + " calls failed (cool-down " +
                          std::to_string(l.breaker->last_cooldown().count() / 1000) + " s)";
  } else {
    health.pause_reason.clear();
  }
  if (auto r = m_store.put_connection_health(health); !r)
    spdlog::warn("store.write_failed what=connection_health connection={} error=\"{}\"", escape_for_log(name),
                 escape_for_log(r.error().message));
}

void ConnectionRegistry::record_success(const std::string& name) {
  MutexLock lock(m_mutex);
  Live& l = live(name);
  const SystemTime now = m_clock.now();
  const bool closed = l.breaker->on_success(now);
  const bool was_bad = l.unhealthy || closed;
  l.unhealthy = false;
  if (was_bad) spdlog::info("connection.recovered connection={}", escape_for_log(name));
  // Persisting every success would cost a write per call; once a second is enough for `status`.
  if (was_bad || now - l.last_persisted >= std::chrono::seconds(1)) {
    l.last_persisted = now;
    persist(name, l, nullptr);
  }
}

void ConnectionRegistry::record_failure(const std::string& name, const Error& error) {
  MutexLock lock(m_mutex);
  Live& l = live(name);
  const SystemTime now = m_clock.now();
  if (error.reason == ErrorReason::token_refused) {
    if (!l.unhealthy)
      spdlog::critical("connection.unhealthy connection={} code={} reason=\"{}\" action=\"calls stopped until "
                       "`h2rd connection test {}` or `connection update` succeeds\"",
                       escape_for_log(name), escape_for_log(error.code), escape_for_log(error.message), escape_for_log(name));
    l.unhealthy = true;
    l.unhealthy_reason = error.message;
    l.unhealthy_since_ms = to_unix_ms(now);
  } else if (error.daily_limit) {
    const SystemTime until = error.retry_at.value_or(now + std::chrono::hours(1));
    if (until <= l.daily_until) return;   // already known
    l.daily_until = until;
    if (l.limiter) l.limiter->pause_until(until, k_daily_limit_reason);
    spdlog::error("connection.paused connection={} reason=\"daily limit\" until={}", escape_for_log(name), format_utc(until));
  } else if (error.reason == ErrorReason::paused || error.reason == ErrorReason::rate_limited) {
    l.breaker->cancel_probe();   // paced: nothing wrong with the connection (and a probe that made no call)
    return;
  } else if (error.kind == ErrorKind::transient) {
    if (!l.breaker->on_failure(now)) return;   // no change of state: not worth a write
    spdlog::warn("connection.circuit_open connection={} failed={} of_calls={} cooldown_ms={} until={} last_error=\"{}\"",
                 escape_for_log(name), l.breaker->tripped_failures(), l.breaker->tripped_calls(),
                 l.breaker->last_cooldown().count(), format_utc(l.breaker->open_until()), escape_for_log(error.message));
  } else {
    // An error about one user (400, 404, 409, ...): the connection answered.
    if (l.breaker->on_success(now)) {
      spdlog::info("connection.recovered connection={}", escape_for_log(name));
      persist(name, l, nullptr);
    }
    return;
  }
  persist(name, l, &error);
}

HealthVerdict ConnectionRegistry::verdict(const std::string& name) {
  MutexLock lock(m_mutex);
  Live& l = live(name);
  const SystemTime now = m_clock.now();
  if (l.unhealthy) {
    // Healed from outside: `h2rd connection test` or `update` succeeded (another process) since.
    auto health = m_store.get_connection_health(name);
    auto row = m_store.get_connection(name);
    bool tested_ok = health && *health && (*health)->last_success_at_ms > l.unhealthy_since_ms;
    bool updated = row && *row && (*row)->updated_at_ms > l.unhealthy_since_ms;
    if (tested_ok || updated) {
      spdlog::info("connection.recovered connection={} by={}", escape_for_log(name), updated ? "update" : "test");
      l.unhealthy = false;
      l.breaker->reset();
      l.client.reset();
      m_tokens.forget(name);
    }
  }
  if (l.unhealthy)
    return {false, "connection " + name + " is unhealthy: " + l.unhealthy_reason, std::nullopt, false,
            ErrorReason::connection_unhealthy};
  if (l.daily_until > now)
    return {false, "connection " + name + " is paused by Zoom's daily limit until " + format_utc(l.daily_until),
            l.daily_until, true, ErrorReason::connection_paused};
  auto admission = l.breaker->admit(now);
  if (admission.probe) spdlog::info("connection.probe connection={}", escape_for_log(name));
  if (admission.allowed) return {};
  if (l.breaker->state(now) == CircuitBreaker::State::half_open)
    return {false, "connection " + name + " is being probed after repeated failures", admission.retry_at, false,
            ErrorReason::connection_paused};
  return {false, "connection " + name + " is paused: " + std::to_string(l.breaker->tripped_failures()) + " of the last " +
                     std::to_string(l.breaker->tripped_calls()) + " calls failed (circuit open until " +
                     format_utc(admission.retry_at) + ")",
          admission.retry_at, false, ErrorReason::connection_paused};
}

} // namespace h2r

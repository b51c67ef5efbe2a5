#include "zoom/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace h2r {
namespace {

std::chrono::nanoseconds interval_for(double per_second) {
  if (!(per_second > 0)) return std::chrono::nanoseconds(0);   // 0 = unlimited
  // A stored rate below the CLI's floor (an older database) is raised to it: one request per
  // 1/k_min_rate_limit seconds at most, never an interval that overflows.
  return std::chrono::nanoseconds(static_cast<long long>(1e9 / std::max(per_second, k_min_rate_limit)));
}

SystemTime::duration to_tick(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<SystemTime::duration>(d);
}

} // namespace

RateLimiter::RateLimiter(double per_second)
    : m_rate(per_second), m_interval(interval_for(per_second)), m_local_interval(m_interval) {}

SystemTime RateLimiter::reserve_local(SystemTime now) {
  SystemTime slot = std::max({now, m_next, m_paused_until});
  if (slot > now) ++m_waits;
  m_next = slot + to_tick(m_local_interval);
  return slot;
}

int RateLimiter::grant_size() const {
  const auto per_grant = std::chrono::duration_cast<std::chrono::nanoseconds>(k_pace_grant_span).count() /
                         std::max<long long>(1, m_interval.count());
  return static_cast<int>(std::clamp<long long>(per_grant, 1, 10000));   // the store's k_max_pace_grant
}

SystemTime RateLimiter::reserve(SystemTime now) {
  MutexLock lock(m_mutex);
  m_last_now = std::max(m_last_now, now);
  if (!sharing(now)) return reserve_local(now);
  // A slot of the grant may be used up to one interval late (the call then goes out at once); older
  // ones, and those inside a pause, are dropped: calls never bunch up to catch up.
  const SystemTime floor = std::max(now - to_tick(m_interval), m_paused_until);
  while (m_grant_left > 0 && m_grant_next < floor) {
    m_grant_next += to_tick(m_grant_interval);
    --m_grant_left;
  }
  if (m_grant_left == 0) {
    auto grant = m_source(std::max(now, m_paused_until), m_interval, grant_size());
    if (!grant || grant->count <= 0 || grant->interval < m_interval) {
      ++m_fallbacks;
      m_fallback_until = now + k_pace_fallback;
      return reserve_local(now);
    }
    ++m_grants;
    m_grant_next = grant->first;
    m_grant_left = grant->count;
    m_grant_interval = grant->interval;
  }
  const SystemTime slot = std::max(m_grant_next, now);
  m_grant_next += to_tick(m_grant_interval);
  --m_grant_left;
  if (slot > now) ++m_waits;
  // Should the schedule fail next, the local pacing goes on after this slot.
  m_next = std::max(m_next, slot + to_tick(m_local_interval));
  return slot;
}

void RateLimiter::pause_until(SystemTime until, std::string reason) {
  MutexLock lock(m_mutex);
  if (until > m_paused_until) {
    m_paused_until = until;
    m_pause_reason = std::move(reason);
    // The account's other daemons would get the same 429: they wait too (best effort, bounded).
    if (sharing(m_last_now) && m_last_now != SystemTime{})
      (void)m_source(std::min(until, m_last_now + k_max_shared_pause), m_interval, 0);
  }
}

std::optional<std::pair<SystemTime, std::string>> RateLimiter::pause(SystemTime now) const {
  MutexLock lock(m_mutex);
  if (m_paused_until <= now) return std::nullopt;
  return std::make_pair(m_paused_until, m_pause_reason);
}

void RateLimiter::set_rate(double per_second) {
  MutexLock lock(m_mutex);
  m_rate = per_second;
  m_interval = interval_for(per_second);
  m_local_interval = interval_for(per_second / m_share);
}

void RateLimiter::set_share(int daemons) {
  MutexLock lock(m_mutex);
  m_share = std::max(1, daemons);
  m_local_interval = interval_for(m_rate / m_share);
}

void RateLimiter::set_source(SlotSource source) {
  MutexLock lock(m_mutex);
  m_source = std::move(source);
  m_grant_left = 0;
  m_fallback_until = SystemTime{};
}

double RateLimiter::rate() const {
  MutexLock lock(m_mutex);
  const auto interval = sharing(m_last_now) ? m_interval : m_local_interval;
  return interval.count() == 0 ? 0.0 : 1e9 / static_cast<double>(interval.count());
}

long long RateLimiter::waits() const {
  MutexLock lock(m_mutex);
  return m_waits;
}

long long RateLimiter::grants() const {
  MutexLock lock(m_mutex);
  return m_grants;
}

long long RateLimiter::fallbacks() const {
  MutexLock lock(m_mutex);
  return m_fallbacks;
}

} // namespace h2r

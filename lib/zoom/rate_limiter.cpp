#include "zoom/rate_limiter.hpp"

#include <algorithm>

namespace h2r {
namespace {

std::chrono::nanoseconds interval_for(double per_second) {
  if (!(per_second > 0)) return std::chrono::nanoseconds(0);   // 0 = unlimited
  // A stored rate below the CLI's floor (an older database) is raised to it: one request per
  // 1/k_min_rate_limit seconds at most, never an interval that overflows.
  return std::chrono::nanoseconds(static_cast<long long>(1e9 / std::max(per_second, k_min_rate_limit)));
}

} // namespace

RateLimiter::RateLimiter(double per_second) : m_interval(interval_for(per_second)) {}

SystemTime RateLimiter::reserve(SystemTime now) {
  std::lock_guard lock(m_mutex);
  SystemTime slot = std::max({now, m_next, m_paused_until});
  if (slot > now) ++m_waits;
  m_next = slot + std::chrono::duration_cast<SystemTime::duration>(m_interval);
  return slot;
}

void RateLimiter::pause_until(SystemTime until, std::string reason) {
  std::lock_guard lock(m_mutex);
  if (until > m_paused_until) {
    m_paused_until = until;
    m_pause_reason = std::move(reason);
  }
}

std::optional<std::pair<SystemTime, std::string>> RateLimiter::pause(SystemTime now) const {
  std::lock_guard lock(m_mutex);
  if (m_paused_until <= now) return std::nullopt;
  return std::make_pair(m_paused_until, m_pause_reason);
}

void RateLimiter::set_rate(double per_second) {
  std::lock_guard lock(m_mutex);
  m_interval = interval_for(per_second);
}

double RateLimiter::rate() const {
  std::lock_guard lock(m_mutex);
  return m_interval.count() == 0 ? 0.0 : 1e9 / static_cast<double>(m_interval.count());
}

long long RateLimiter::waits() const {
  std::lock_guard lock(m_mutex);
  return m_waits;
}

} // namespace h2r

// RateLimiter: paces one Zoom connection's calls, shared by every worker using it. Calls are spaced
// evenly at the configured rate (no bursts), because Zoom's budget is shared with every other app on
// the account: h2r paces itself rather than hammering and retrying. Thread-safe; it never sleeps —
// callers wait until the moment it hands out.
#pragma once

#include "core/clock.hpp"

#include <mutex>
#include <optional>
#include <string>

namespace h2r {

// The range `connection add/update --rate-limit` accepts, in requests per second.
inline constexpr double k_min_rate_limit = 0.1;
inline constexpr double k_max_rate_limit = 10000;

class RateLimiter {
public:
  // `per_second` 0 (or not positive) = unlimited; a positive rate below k_min_rate_limit is raised to it.
  explicit RateLimiter(double per_second);

  // Reserves the next free slot at or after `now` and returns its time; the caller waits until then.
  SystemTime reserve(SystemTime now);
  // No slot is handed out before `until` (429 Retry-After, daily limit, circuit breaker).
  void pause_until(SystemTime until, std::string reason);
  // The pause in force at `now`, with its reason, if any.
  std::optional<std::pair<SystemTime, std::string>> pause(SystemTime now) const;
  void set_rate(double per_second);
  double rate() const;
  long long waits() const;      // reservations that had to wait (metrics)

private:
  mutable std::mutex m_mutex;
  std::chrono::nanoseconds m_interval;
  SystemTime m_next{};
  SystemTime m_paused_until{};
  std::string m_pause_reason;
  long long m_waits = 0;
};

} // namespace h2r

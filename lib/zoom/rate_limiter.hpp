// RateLimiter: paces one Zoom connection's calls, shared by every worker using it. Calls are spaced
// evenly at the configured rate (no bursts), because Zoom's budget is shared with every other app on
// the account: h2r paces itself rather than hammering and retrying. Thread-safe; it never sleeps —
// callers wait until the moment it hands out.
//
// Several daemons on one database (set_source): the slots come from a schedule shared through the
// database (Store::take_pace_grant, a GCRA), taken a grant of about k_pace_grant_span at a time, so
// the daemons together never pace an account faster than its rate, and one daemon alone may use all
// of it. When the schedule cannot be reached, the limiter paces alone at rate / share (the live
// daemons) for k_pace_fallback, then asks again.
#pragma once

#include "core/clock.hpp"
#include "core/mutex.hpp"

#include <functional>
#include <optional>
#include <string>

namespace h2r {

// The range `connection add/update --rate-limit` accepts, in requests per second.
inline constexpr double k_min_rate_limit = 0.1;
inline constexpr double k_max_rate_limit = 10000;

// A grant holds the slots of about this long at the connection's rate (at least one slot).
inline constexpr std::chrono::milliseconds k_pace_grant_span{100};
// After the shared schedule failed to answer, the limiter paces alone this long before asking again.
inline constexpr std::chrono::milliseconds k_pace_fallback{1000};
// A pause (429 Retry-After) is shared with the other daemons up to this long after the last reserve.
inline constexpr std::chrono::minutes k_max_shared_pause{5};

// Slots of the shared schedule: first, first + interval, ... (count of them).
struct SlotGrant {
  SystemTime first;
  int count = 0;
  std::chrono::nanoseconds interval{0};
};
// Takes up to `count` slots spaced at least `interval` apart, the first at or after `from`, from the
// schedule shared with the other daemons; count 0 holds that schedule back until `from`. nullopt:
// the schedule cannot be reached now.
using SlotSource = std::function<std::optional<SlotGrant>(SystemTime from, std::chrono::nanoseconds interval, int count)>;

class RateLimiter {
public:
  // `per_second` 0 (or not positive) = unlimited; a positive rate below k_min_rate_limit is raised to it.
  explicit RateLimiter(double per_second);

  // Reserves the next free slot at or after `now` and returns its time; the caller waits until then.
  SystemTime reserve(SystemTime now);
  // No slot is handed out before `until` (429 Retry-After, daily limit, circuit breaker). With a
  // source, the shared schedule is held back until then too (at most k_max_shared_pause ahead).
  void pause_until(SystemTime until, std::string reason);
  // The pause in force at `now`, with its reason, if any.
  std::optional<std::pair<SystemTime, std::string>> pause(SystemTime now) const;
  // The connection's rate limit, requests/s (all daemons together).
  void set_rate(double per_second);
  // How many daemons share the rate: without a source (or while it fails) this limiter paces at
  // rate / daemons (at least 1).
  void set_share(int daemons);
  // Draw slots from the schedule shared with other daemons (empty: pace locally, as one daemon does).
  void set_source(SlotSource source);
  // The rate this limiter may use now: the whole rate limit with a working source, else rate / share.
  double rate() const;
  long long waits() const;      // reservations that had to wait (metrics)
  long long grants() const;     // grants taken from the shared schedule
  long long fallbacks() const;  // times the shared schedule failed and the limiter paced alone

private:
  SystemTime reserve_local(SystemTime now) H2R_REQUIRES(m_mutex);
  int grant_size() const H2R_REQUIRES(m_mutex);
  bool sharing(SystemTime now) const H2R_REQUIRES(m_mutex) { return m_source && m_interval.count() > 0 && now >= m_fallback_until; }

  mutable Mutex m_mutex;
  double m_rate H2R_GUARDED_BY(m_mutex) = 0;
  int m_share H2R_GUARDED_BY(m_mutex) = 1;
  std::chrono::nanoseconds m_interval H2R_GUARDED_BY(m_mutex);        // at the whole rate (grants)
  std::chrono::nanoseconds m_local_interval H2R_GUARDED_BY(m_mutex);  // at rate / share (no source, or it failed)
  SystemTime m_next H2R_GUARDED_BY(m_mutex){};
  SystemTime m_paused_until H2R_GUARDED_BY(m_mutex){};
  std::string m_pause_reason H2R_GUARDED_BY(m_mutex);
  long long m_waits H2R_GUARDED_BY(m_mutex) = 0;
  SlotSource m_source H2R_GUARDED_BY(m_mutex);
  SystemTime m_grant_next H2R_GUARDED_BY(m_mutex){};                  // the next unused slot of the current grant
  int m_grant_left H2R_GUARDED_BY(m_mutex) = 0;
  std::chrono::nanoseconds m_grant_interval H2R_GUARDED_BY(m_mutex){0};
  SystemTime m_fallback_until H2R_GUARDED_BY(m_mutex){};
  SystemTime m_last_now H2R_GUARDED_BY(m_mutex){};
  long long m_grants H2R_GUARDED_BY(m_mutex) = 0;
  long long m_fallbacks H2R_GUARDED_BY(m_mutex) = 0;
};

} // namespace h2r

// CircuitBreaker: one Zoom connection's "stop calling for a while" decision, from the outcomes of
// its recent calls. Pure bookkeeping over times passed in (tests drive it with a fake clock); not
// thread-safe: ConnectionRegistry calls it under its mutex.
//
//   closed     every call is allowed; outcomes go into a window of the last `window` calls. When the
//              window holds at least `min_calls` and `failure_ratio` of them failed, it opens.
//   open       no call until `open_until` (the cool-down).
//   half-open  after the cool-down exactly one caller is let through (the probe). Its success closes
//              the breaker and resets the cool-down to `cooldown`; its failure opens it again for
//              twice the last cool-down, up to `max_cooldown`.
#pragma once

#include "config/config.hpp"
#include "core/clock.hpp"

#include <vector>

namespace h2r {

class CircuitBreaker {
public:
  enum class State { closed, open, half_open };
  struct Admission {
    bool allowed = true;
    bool probe = false;       // this caller is the half-open probe
    SystemTime retry_at{};    // when not allowed: when to ask again
  };

  explicit CircuitBreaker(BreakerConfig config = {});

  // Whether a call may be made now (and, in half-open, whether this caller is the one probe).
  Admission admit(SystemTime now);
  // The outcome of an admitted call: success (the connection answered, even with an error about one
  // user) or a transient failure (5xx, timeout, reset). Each returns true when the state changed.
  // While open, only the probe's outcome counts; calls admitted before the breaker opened are ignored.
  bool on_success(SystemTime now);
  bool on_failure(SystemTime now);
  // The probe made no call after all (paced by the rate limiter): the next caller probes instead.
  void cancel_probe();
  // Back to closed with an empty window and the base cool-down (`connection update`, reload).
  void reset();
  // Adopts new settings (a reload of h2rd.yaml) keeping what the breaker knows: the most recent
  // outcomes that fit the new window stay in it; an open breaker keeps its cool-down's end; the next
  // cool-down is brought inside [cooldown, max_cooldown].
  void configure(const BreakerConfig& config);

  State state(SystemTime now) const;
  SystemTime open_until() const { return m_open_until; }
  std::chrono::milliseconds last_cooldown() const { return m_last_cooldown; }
  int calls() const { return m_count; }          // in the window
  int failures() const { return m_failures; }    // in the window
  // The window when the breaker last opened: "failed of calls" (for logs and `h2rd status`).
  int tripped_failures() const { return m_tripped_failures; }
  int tripped_calls() const { return m_tripped_calls; }
  const BreakerConfig& config() const { return m_config; }

  // A probe that never reports back (its caller crashed or hangs) is replaced after this long.
  static constexpr std::chrono::seconds k_probe_stale{120};
  // While the probe is in flight, other callers ask again after this long (or `cooldown`, if shorter).
  static constexpr std::chrono::seconds k_probe_wait{2};

private:
  void remember(bool failed);
  void trip(SystemTime now);
  void clear_window();

  BreakerConfig m_config;
  std::vector<char> m_window;   // ring of outcomes, 1 = failed
  int m_next = 0, m_count = 0, m_failures = 0;
  int m_tripped_failures = 0, m_tripped_calls = 0;
  bool m_open = false;
  bool m_probing = false;
  SystemTime m_open_until{};
  SystemTime m_probe_started{};
  std::chrono::milliseconds m_next_cooldown;
  std::chrono::milliseconds m_last_cooldown{0};
};

std::string_view to_string(CircuitBreaker::State state);

} // namespace h2r

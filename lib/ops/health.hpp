// Liveness of the scheduler and the verdict GET /healthz and the systemd watchdog act on.
#pragma once

#include "core/error.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace h2r {

// A scheduler that has not shown progress (a loop turn, a finished SCIM call, an event outcome) for
// this long is stuck: /healthz answers 503 and WATCHDOG=1 stops. Longer than any single wait the
// scheduler does on purpose (ScimClientOptions::max_inline_wait 60 s, HTTP read timeout 30 s).
inline constexpr std::chrono::seconds k_heartbeat_max_age{120};

// The time of the scheduler's last sign of life, on the steady clock. Thread-safe, lock-free.
class Heartbeat {
public:
  using TimePoint = std::chrono::steady_clock::time_point;
  Heartbeat() { beat(); }
  void beat() { beat_at(std::chrono::steady_clock::now()); }
  void beat_at(TimePoint t) { m_last_ns = t.time_since_epoch().count(); }
  // How long ago the last beat was (0 when it is in the future of `now`).
  std::chrono::milliseconds age(TimePoint now = std::chrono::steady_clock::now()) const;

private:
  std::atomic<TimePoint::rep> m_last_ns{0};
};

struct HealthReport {
  bool ok = true;
  std::string reason;   // "ok", or why not, e.g. "scheduler heartbeat is 300 s old (limit 120 s)"
};

// Healthy when the heartbeat is at most `max_age` old and the database answered (`database` holds
// its error otherwise).
HealthReport evaluate_health(std::chrono::milliseconds heartbeat_age, std::chrono::milliseconds max_age,
                             const Result<void>& database);

// One more condition /healthz checks: nullopt when fine, else the reason (one sentence) it is not.
// Called from the status server's threads: must be thread-safe and cheap (no network).
using HealthCheck = std::function<std::optional<std::string>()>;

// Whether the database file the daemon opened is still the one on disk (same device and inode: not
// deleted, not replaced behind its back) and writable (write permission, and at least
// k_min_free_bytes free on its file system). Thread-safe (const after construction).
class DatabaseFileCheck {
public:
  explicit DatabaseFileCheck(std::string path);   // remembers the file's identity now
  std::optional<std::string> operator()() const;

  static constexpr std::uint64_t k_min_free_bytes = 1 << 20;   // below this, writes are about to fail

private:
  std::string m_path;
  bool m_known = false;   // the file existed at construction
  std::uint64_t m_dev = 0, m_ino = 0;
};

// Whether the database takes the engine's writes: `failing_since_ms` answers 0 while outcome and hold
// writes succeed, else when the first of the current run of refused writes happened (Unix ms); the
// check is failed until a write succeeds again. Thread-safe when `failing_since_ms` is.
class StoreWritesCheck {
public:
  explicit StoreWritesCheck(std::function<long long()> failing_since_ms);
  std::optional<std::string> operator()() const;

private:
  std::function<long long()> m_failing_since_ms;
};

} // namespace h2r

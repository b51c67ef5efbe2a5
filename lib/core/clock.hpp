// Clock: the one way h2r code reads the time, so tests can move it (docs/style.md "Seams").
#pragma once

#include "core/mutex.hpp"

#include <atomic>
#include <chrono>

namespace h2r {

using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
public:
  virtual ~Clock() = default;
  // Wall-clock time: effective dates, token expiry, retry times stored in the database.
  virtual SystemTime now() const = 0;
};

class SystemClock final : public Clock {
public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance();
};

// A clock that only moves when a test says so. Thread-safe.
class FakeClock final : public Clock {
public:
  explicit FakeClock(SystemTime start = SystemTime{} + std::chrono::hours(24 * 365 * 56))
      : m_now_ms(std::chrono::duration_cast<Millis>(start.time_since_epoch()).count()) {}
  SystemTime now() const override { return SystemTime{} + Millis(m_now_ms.load()); }
  void set(SystemTime t) { m_now_ms = std::chrono::duration_cast<Millis>(t.time_since_epoch()).count(); }
  void advance(Millis d) { m_now_ms += d.count(); }

private:
  std::atomic<long long> m_now_ms;
};

// Milliseconds since the Unix epoch, the form times take in the database and in --json output.
inline long long to_unix_ms(SystemTime t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
inline SystemTime from_unix_ms(long long ms) { return SystemTime{} + Millis(ms); }

// The one shutdown primitive: every wait and retry sleep in the daemon wakes on it
// (osquery's waitTimeoutOrShutdown). poke() wakes waiters early without asking them to stop (new
// work arrived, a reload was asked for). Thread-safe.
class Shutdown {
public:
  void request() {
    {
      MutexLock lock(m_mutex);
      m_requested = true;
    }
    m_cv.notify_all();
  }
  // Lock-free: every worker asks this before each item (a mutex here showed as contention).
  bool requested() const { return m_requested.load(std::memory_order_acquire); }
  // Sleeps up to `d` of real time, or until poked; returns true when shutdown was requested.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) {
    MutexLock lock(m_mutex);
    if (m_requested) return true;
    if (m_poked) {
      m_poked = false;
      return false;
    }
    m_cv.wait_for(lock, d, [this]() H2R_REQUIRES(m_mutex) { return m_requested || m_poked; });
    m_poked = false;
    return m_requested;
  }
  // Sleeps up to `d`; true when woken by poke() or request(), false when the time ran out.
  template <class Rep, class Period>
  bool wait_poked(std::chrono::duration<Rep, Period> d) {
    MutexLock lock(m_mutex);
    bool woken = m_cv.wait_for(lock, d, [this]() H2R_REQUIRES(m_mutex) { return m_requested || m_poked; });
    m_poked = false;
    return woken;
  }
  void poke() {
    {
      MutexLock lock(m_mutex);
      m_poked = true;
    }
    m_cv.notify_all();
  }

private:
  mutable Mutex m_mutex;
  CondVar m_cv;
  std::atomic<bool> m_requested{false};   // written under m_mutex (the waits' predicate), read without
  bool m_poked H2R_GUARDED_BY(m_mutex) = false;
};

} // namespace h2r

// Mutex, MutexLock and CondVar: std::mutex, a scoped lock and std::condition_variable with clang's
// thread-safety attributes (core/thread_annotations.hpp), which libstdc++'s own types do not carry.
// Every mutex in lib/ and h2rd/ is a Mutex, and every member it guards says so:
//
//   Mutex m_mutex;
//   int m_count H2R_GUARDED_BY(m_mutex) = 0;
//   void bump_locked() H2R_REQUIRES(m_mutex);   // a helper called with the lock held
//
// so the clang build (scripts/build thread-safety) refuses an access without the lock. Almost no cost:
// each type is the std one inside, every member inline, plus a count of the locks each thread holds
// (mutexes_held(): a fiber never gives its thread back with one held, core/fiber.hpp).
#pragma once

#include "core/thread_annotations.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace h2r {

namespace detail {
// How many Mutex locks the calling thread holds now (a CondVar wait counts as holding): a fiber
// gives its thread back only with none held (core/fiber.hpp).
inline thread_local int t_mutexes_held = 0;
} // namespace detail

inline int mutexes_held() { return detail::t_mutexes_held; }

class H2R_CAPABILITY("mutex") Mutex {
public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() H2R_ACQUIRE() {
    m_mutex.lock();
    ++detail::t_mutexes_held;
  }
  void unlock() H2R_RELEASE() {
    --detail::t_mutexes_held;
    m_mutex.unlock();
  }
  bool try_lock() H2R_TRY_ACQUIRE(true) {
    if (!m_mutex.try_lock()) return false;
    ++detail::t_mutexes_held;
    return true;
  }
  // Tells the analysis the calling thread holds this mutex (checks nothing at run time): for code
  // that runs under a lock taken elsewhere, e.g. by an object that holds it for its lifetime.
  void assert_held() const H2R_ASSERT_CAPABILITY(this) {}
  // The std::mutex inside, for a lock that outlives a scope (a std::unique_lock kept in an object);
  // where that lock is relied on, assert_held() says so to the analysis.
  std::mutex& native() H2R_RETURN_CAPABILITY(this) { return m_mutex; }

private:
  friend class MutexLock;
  std::mutex m_mutex;
};

// Passed to MutexLock to take over a mutex the caller already holds (after try_lock()).
struct AdoptLock {};
inline constexpr AdoptLock k_adopt_lock{};

// Holds a Mutex from construction to destruction, as std::unique_lock does: unlock() and lock() in
// between (the analysis follows both), and CondVar waits on it.
class H2R_SCOPED_CAPABILITY MutexLock {
public:
  explicit MutexLock(Mutex& mutex) H2R_ACQUIRE(mutex) : m_lock(mutex.m_mutex) { ++detail::t_mutexes_held; }
  // Takes over `mutex`, which the caller holds (a successful try_lock(), counted then).
  MutexLock(Mutex& mutex, AdoptLock) H2R_REQUIRES(mutex) : m_lock(mutex.m_mutex, std::adopt_lock) {}
  ~MutexLock() H2R_RELEASE() {
    if (m_lock.owns_lock()) --detail::t_mutexes_held;
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void lock() H2R_ACQUIRE() {
    m_lock.lock();
    ++detail::t_mutexes_held;
  }
  void unlock() H2R_RELEASE() {
    --detail::t_mutexes_held;
    m_lock.unlock();
  }

private:
  friend class CondVar;
  std::unique_lock<std::mutex> m_lock;
};

// std::condition_variable waiting on a MutexLock. A predicate reads guarded members, and clang
// checks a lambda as a function of its own, so it says what it needs:
//   m_cv.wait(lock, [this]() H2R_REQUIRES(m_mutex) { return m_done; });
class CondVar {
public:
  void notify_one() noexcept { m_cv.notify_one(); }
  void notify_all() noexcept { m_cv.notify_all(); }

  void wait(MutexLock& lock) { m_cv.wait(lock.m_lock); }
  template <class Predicate>
  void wait(MutexLock& lock, Predicate ready) {
    m_cv.wait(lock.m_lock, std::move(ready));
  }
  template <class Clock, class Duration>
  std::cv_status wait_until(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& until) {
    return m_cv.wait_until(lock.m_lock, until);
  }
  template <class Clock, class Duration, class Predicate>
  bool wait_until(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& until, Predicate ready) {
    return m_cv.wait_until(lock.m_lock, until, std::move(ready));
  }
  template <class Rep, class Period, class Predicate>
  bool wait_for(MutexLock& lock, const std::chrono::duration<Rep, Period>& timeout, Predicate ready) {
    return m_cv.wait_for(lock.m_lock, timeout, std::move(ready));
  }

private:
  std::condition_variable m_cv;
};

} // namespace h2r

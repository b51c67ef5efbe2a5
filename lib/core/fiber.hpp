// FiberPool: a small, fixed set of threads that run many fibers (issue 30). A fiber is a function on a
// stack of its own; where it would wait — for its connection's pacing slot, for Zoom's answer — it
// gives its thread back to the others instead of sleeping on it, and is resumed there when the slot
// comes or the answer arrives. So a daemon serving hundreds of Zoom accounts holds as many calls in
// flight as their rates need with a few threads, not one thread per call.
//
// The rules that keep this as safe as threads:
// - A fiber stays on the thread it started on: thread-local state and the std::mutex inside Mutex
//   are always used on one thread.
// - A fiber gives its thread back only while it holds no Mutex (every Mutex counts its holders per
//   thread, core/mutex.hpp): fiber::suspend() and fiber::sleep_for() answer false and do nothing when
//   called with one held, or when not on a fiber, and the caller then waits as a thread does. A
//   fiber suspended with a lock held could block every other fiber of its thread forever.
// - A wait for another fiber or thread is a FiberCondition (below), which gives the thread back; any
//   other wait in a fiber (a CondVar, a store call) holds its thread, as it did before.
// - The state that belonged to a thread and now belongs to the work a fiber does (the call fence,
//   zoom/call_fence.hpp) lives in fiber::local(): one set of slots per fiber, or per thread off them.
#pragma once

#include "core/mutex.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace h2r {

namespace fiber {

// Slots of fiber-local state (fiber::local).
enum class Slot { call_fence, count };

// The running fiber's slot, or the calling thread's when it runs no fiber.
void*& local(Slot slot);

// True on a fiber of a FiberPool.
bool on_fiber();

// Ends a suspension: callable from any thread, exactly once.
using Resume = std::function<void()>;

// Suspends the running fiber until the Resume handed to `arm` is called (arm may call it at once, or
// on another thread before this one has even switched away). Returns false without calling `arm`
// when the caller may not suspend (not on a fiber, or holding a Mutex): the caller waits instead.
bool suspend(const std::function<void(Resume)>& arm);

// suspend(), and the fiber's thread resumes it at `deadline` if the Resume has not come by then. The
// Resume may still be called after that, but only while the fiber cannot have gone on to another
// suspension (which it would end): call it under a lock the fiber takes before it goes on, as
// FiberCondition does.
bool suspend_until(std::chrono::steady_clock::time_point deadline, const std::function<void(Resume)>& arm);

// Suspends the running fiber for `d` (its thread runs others meanwhile). False, without waiting, when
// suspend() could not: the caller sleeps as a thread does.
bool sleep_for(std::chrono::steady_clock::duration d);

} // namespace fiber

// A condition variable for code that runs on fibers and on threads alike. A fiber waits without holding
// its thread (its others run meanwhile); a thread, or a fiber holding another Mutex besides `mutex`,
// waits as on a CondVar. Every wait and notify is made holding the same Mutex, which guards the
// condition waited for; waits may return spuriously, so wait in a loop that looks at it:
//   while (!m_done) m_done_cv.wait(m_mutex);
// (no predicate overloads: clang's analysis could not tell that a predicate's lock is `mutex`).
class FiberCondition {
public:
  FiberCondition() = default;
  FiberCondition(const FiberCondition&) = delete;
  FiberCondition& operator=(const FiberCondition&) = delete;

  void wait(Mutex& mutex) H2R_REQUIRES(mutex) { (void)wait_until(mutex, std::nullopt); }
  // False when `deadline` passed before a notify.
  bool wait_until(Mutex& mutex, std::chrono::steady_clock::time_point deadline) H2R_REQUIRES(mutex) {
    return wait_until(mutex, std::optional(deadline));
  }
  // With the Mutex of the waits held.
  void notify_one();
  void notify_all();

private:
  struct Waiter;   // a suspended fiber's, on its own stack (fiber.cpp)
  bool wait_until(Mutex& mutex, std::optional<std::chrono::steady_clock::time_point> deadline) H2R_REQUIRES(mutex);
  bool wake_fiber();   // the first waiting fiber, if any

  std::deque<Waiter*> m_fibers;            // under the waits' Mutex
  std::condition_variable_any m_threads;   // waits on the Mutex itself (it counts its holders)
};

class FiberPool {
public:
  // `threads` (at least 1) run every fiber spawned; each fiber gets a stack of `stack_bytes` (rounded
  // up to pages, with a guard page below it that faults instead of overflowing into other memory).
  explicit FiberPool(int threads, std::size_t stack_bytes = default_stack_bytes());
  // Waits for every fiber spawned to end, then stops the threads.
  ~FiberPool();
  FiberPool(const FiberPool&) = delete;
  FiberPool& operator=(const FiberPool&) = delete;

  // Runs `body` on a new fiber, on the thread with the fewest fibers. Throws std::system_error when
  // no stack could be mapped (the caller decides: run fewer at once). An exception out of `body` ends
  // the process, as one out of a std::thread's function does.
  void spawn(std::function<void()> body);

  int threads() const;
  // Fibers alive now (started and not ended), over all threads.
  int fibers() const;

  static std::size_t default_stack_bytes();

  struct Worker;   // one thread and its fibers (fiber.cpp)

private:
  std::vector<std::unique_ptr<Worker>> m_workers;
  std::size_t m_stack_bytes;
};

} // namespace h2r

// FiberPool (core/fiber.hpp) on glibc's ucontext: swapcontext saves and restores the registers, the
// signal mask and the stack. The sanitizers are told of every switch, or they would take one stack
// for another (ASan's fake stacks, TSan's happens-before per fiber).
#include "core/fiber.hpp"

#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <system_error>
#include <thread>

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define H2R_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H2R_FIBER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define H2R_FIBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define H2R_FIBER_TSAN 1
#endif
#endif
#ifdef H2R_FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef H2R_FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace h2r {

namespace {

using Steady = std::chrono::steady_clock;

// A stack mapped with a guard page below it (stacks grow down): an overflow faults at once.
class Stack {
public:
  explicit Stack(std::size_t bytes) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    m_size = (bytes + page - 1) / page * page;
    m_map_size = m_size + page;
    void* p = ::mmap(nullptr, m_map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap of a fiber stack");
    if (::mprotect(p, page, PROT_NONE) != 0) {
      const int err = errno;
      ::munmap(p, m_map_size);
      throw std::system_error(err, std::generic_category(), "guard page of a fiber stack");
    }
    m_map = p;
    m_base = static_cast<char*>(p) + page;
  }
  ~Stack() {
    if (m_map) ::munmap(m_map, m_map_size);
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  void* base() const { return m_base; }
  std::size_t size() const { return m_size; }

private:
  void* m_map = nullptr;
  void* m_base = nullptr;
  std::size_t m_size = 0;
  std::size_t m_map_size = 0;
};

enum class State { ready, running, suspending, suspended, done };

} // namespace

struct Fiber;
// A worker's timers: when each suspended fiber that asked for one is to be resumed.
using Timers = std::multimap<Steady::time_point, Fiber*>;

struct Fiber {
  FiberPool::Worker* worker = nullptr;
  std::function<void()> body;
  Stack stack;
  ucontext_t context{};
  State state = State::ready;   // under the worker's mutex once spawned
  bool wake_pending = false;    // resumed while still switching away (under the worker's mutex)
  std::optional<Timers::iterator> timer;   // its entry in the worker's timers while it has one (same)
  std::array<void*, static_cast<std::size_t>(fiber::Slot::count)> locals{};
#ifdef H2R_FIBER_TSAN
  void* tsan = nullptr;
#endif
  Fiber(FiberPool::Worker* w, std::function<void()> b, std::size_t stack_bytes)
      : worker(w), body(std::move(b)), stack(stack_bytes) {}
};

struct FiberPool::Worker {
  Mutex mutex;
  CondVar wake;
  std::deque<Fiber*> ready H2R_GUARDED_BY(mutex);
  Timers timers H2R_GUARDED_BY(mutex);
  int alive H2R_GUARDED_BY(mutex) = 0;    // fibers spawned here, not ended
  bool stopping H2R_GUARDED_BY(mutex) = false;
  CondVar idle;                           // alive fell to 0
  std::thread thread;
  // Touched by this worker's thread only:
  ucontext_t scheduler{};
  Fiber* current = nullptr;
#ifdef H2R_FIBER_TSAN
  void* tsan_scheduler = nullptr;
#endif
#ifdef H2R_FIBER_ASAN
  const void* asan_bottom = nullptr;   // the thread's own stack, for switches back to it
  std::size_t asan_size = 0;
#endif

  void loop();
  void run(Fiber* f);
  // Queues `f` to run; a timer it still has goes (whichever of a Resume and its timer comes first wins).
  void make_ready(Fiber* f) H2R_REQUIRES(mutex) {
    if (f->timer) {
      timers.erase(*f->timer);
      f->timer.reset();
    }
    f->state = State::ready;
    ready.push_back(f);
    wake.notify_one();
  }
};

namespace {

thread_local FiberPool::Worker* t_worker = nullptr;   // the worker this thread is (nullptr: another thread)
thread_local std::array<void*, static_cast<std::size_t>(fiber::Slot::count)> t_thread_locals{};

Fiber* running_fiber() { return t_worker ? t_worker->current : nullptr; }

// From the scheduler to `f`, and back when `f` switches away (suspends or ends).
void switch_in(FiberPool::Worker& w, Fiber& f) {
#ifdef H2R_FIBER_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack.base(), f.stack.size());
#endif
#ifdef H2R_FIBER_TSAN
  __tsan_switch_to_fiber(f.tsan, 0);
#endif
  ::swapcontext(&w.scheduler, &f.context);
#ifdef H2R_FIBER_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

// From the running fiber back to its scheduler; `ending`: it will never run again.
void switch_out(FiberPool::Worker& w, Fiber& f, bool ending) {
#ifdef H2R_FIBER_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(ending ? nullptr : &fake, w.asan_bottom, w.asan_size);
#endif
#ifdef H2R_FIBER_TSAN
  __tsan_switch_to_fiber(w.tsan_scheduler, 0);
#endif
  ::swapcontext(&f.context, &w.scheduler);
#ifdef H2R_FIBER_ASAN
  __sanitizer_finish_switch_fiber(fake, &w.asan_bottom, &w.asan_size);
#else
  (void)ending;
#endif
}

void fiber_entry() {
  FiberPool::Worker& w = *t_worker;
  Fiber& f = *w.current;
#ifdef H2R_FIBER_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &w.asan_bottom, &w.asan_size);
#endif
  try {
    f.body();
  } catch (const std::exception& e) {
    spdlog::critical("fiber.uncaught error=\"{}\"", escape_for_log(e.what()));
    std::terminate();
  } catch (...) {
    spdlog::critical("fiber.uncaught error=\"unknown exception\"");
    std::terminate();
  }
  f.body = nullptr;   // what it captured goes now, on its own stack
  {
    MutexLock lock(w.mutex);
    f.state = State::done;
  }
  switch_out(w, f, true);
  std::abort();   // never resumed
}

// The context that starts `f` at fiber_entry on its own stack. A function of its own: getcontext returns
// twice in principle, and no caller's variable should live across it.
[[gnu::noinline]] void prepare_context(Fiber& f) {
  if (::getcontext(&f.context) != 0) throw std::system_error(errno, std::generic_category(), "getcontext");
  f.context.uc_stack.ss_sp = f.stack.base();
  f.context.uc_stack.ss_size = f.stack.size();
  f.context.uc_link = nullptr;
  ::makecontext(&f.context, fiber_entry, 0);
#ifdef H2R_FIBER_TSAN
  f.tsan = __tsan_create_fiber(0);
#endif
}

} // namespace

void FiberPool::Worker::run(Fiber* f) {
  current = f;
  switch_in(*this, *f);
  current = nullptr;
  MutexLock lock(mutex);
  if (f->state == State::done) {
    lock.unlock();
#ifdef H2R_FIBER_TSAN
    __tsan_destroy_fiber(f->tsan);
#endif
    delete f;
    lock.lock();
    if (--alive == 0) idle.notify_all();
    return;
  }
  // It suspended: waiting for a Resume or a timer, unless the Resume came while it switched away.
  if (f->wake_pending) {
    f->wake_pending = false;
    make_ready(f);
  } else if (f->state == State::suspending) {
    f->state = State::suspended;
  }
}

void FiberPool::Worker::loop() {
  t_worker = this;
#ifdef H2R_FIBER_TSAN
  tsan_scheduler = __tsan_get_current_fiber();
#endif
  for (;;) {
    Fiber* next = nullptr;
    {
      MutexLock lock(mutex);
      for (;;) {
        const auto now = Steady::now();
        while (!timers.empty() && timers.begin()->first <= now) make_ready(timers.begin()->second);
        if (!ready.empty()) {
          next = ready.front();
          ready.pop_front();
          next->state = State::running;
          break;
        }
        if (stopping && alive == 0) return;
        if (timers.empty()) {
          wake.wait(lock);
        } else {
          // A copy: a Resume may cancel this timer, freeing its node, while the thread waits.
          const Steady::time_point until = timers.begin()->first;
          wake.wait_until(lock, until);
        }
      }
    }
    run(next);
  }
}

namespace fiber {

void*& local(Slot slot) {
  const auto i = static_cast<std::size_t>(slot);
  if (Fiber* f = running_fiber()) return f->locals[i];
  return t_thread_locals[i];
}

bool on_fiber() { return running_fiber() != nullptr; }

namespace {

// The running fiber, when it may give its thread back now (on a fiber, holding no Mutex), marked as
// switching away; with `wake_at`, its thread's timer resumes it then.
Fiber* begin_suspend(std::optional<Steady::time_point> wake_at) {
  Fiber* f = running_fiber();
  if (!f || mutexes_held() != 0) return nullptr;
  FiberPool::Worker& w = *f->worker;
  MutexLock lock(w.mutex);
  f->state = State::suspending;
  f->wake_pending = false;
  if (wake_at) {
    f->timer = w.timers.emplace(*wake_at, f);
    w.wake.notify_one();
  }
  return f;
}

bool suspend_with(std::optional<Steady::time_point> wake_at, const std::function<void(Resume)>& arm) {
  Fiber* f = begin_suspend(wake_at);
  if (!f) return false;
  FiberPool::Worker& w = *f->worker;
  arm([f, &w] {
    MutexLock lock(w.mutex);
    if (f->state == State::suspended)
      w.make_ready(f);
    else
      f->wake_pending = true;   // still switching away: the scheduler queues it once it has
  });
  switch_out(w, *f, false);
  return true;
}

} // namespace

bool suspend(const std::function<void(Resume)>& arm) { return suspend_with(std::nullopt, arm); }

bool suspend_until(Steady::time_point deadline, const std::function<void(Resume)>& arm) {
  return suspend_with(deadline, arm);
}

bool sleep_for(Steady::duration d) {
  Fiber* f = begin_suspend(Steady::now() + std::max(Steady::duration::zero(), d));
  if (!f) return false;
  switch_out(*f->worker, *f, false);
  return true;
}

} // namespace fiber

struct FiberCondition::Waiter {
  bool notified = false;
  std::optional<fiber::Resume> resume;   // set by its arm, unless notified first
};

bool FiberCondition::wake_fiber() {
  if (m_fibers.empty()) return false;
  Waiter* w = m_fibers.front();
  m_fibers.pop_front();
  w->notified = true;
  if (w->resume) (*w->resume)();   // else its arm has not run yet, and will find it notified
  return true;
}

void FiberCondition::notify_one() {
  if (!wake_fiber()) m_threads.notify_one();
}

void FiberCondition::notify_all() {
  while (wake_fiber()) {
  }
  m_threads.notify_all();
}

bool FiberCondition::wait_until(Mutex& mutex, std::optional<Steady::time_point> deadline) {
  // A fiber may give its thread back only holding no Mutex once `mutex` is let go.
  if (fiber::on_fiber() && mutexes_held() == 1) {
    Waiter self;
    m_fibers.push_back(&self);
    mutex.unlock();
    const auto arm = [&mutex, &self](fiber::Resume resume) {
      MutexLock lock(mutex);
      if (!self.notified) {
        self.resume = std::move(resume);
        return;
      }
      lock.unlock();
      resume();   // notified between the unlock above and now
    };
    const bool suspended = deadline ? fiber::suspend_until(*deadline, arm) : fiber::suspend(arm);
    mutex.lock();
    if (self.notified) return true;
    // The deadline came (a notifier, which holds `mutex`, can no longer reach this waiter), or it could
    // not suspend after all: it waits as a thread below.
    m_fibers.erase(std::find(m_fibers.begin(), m_fibers.end(), &self));
    if (suspended) return false;
  }
  if (!deadline) {
    m_threads.wait(mutex);
    return true;
  }
  return m_threads.wait_until(mutex, *deadline) == std::cv_status::no_timeout;
}

std::size_t FiberPool::default_stack_bytes() {
#if defined(H2R_FIBER_ASAN) || defined(H2R_FIBER_TSAN)
  return 4u << 20;   // sanitizers' frames are several times larger
#else
  return 1u << 20;   // address space only: a fiber's resident memory is the pages it touched
#endif
}

FiberPool::FiberPool(int threads, std::size_t stack_bytes) : m_stack_bytes(std::max<std::size_t>(stack_bytes, 64u << 10)) {
  threads = std::max(1, threads);
  for (int i = 0; i < threads; ++i) m_workers.push_back(std::make_unique<Worker>());
  for (auto& w : m_workers) {
    Worker* worker = w.get();
    worker->thread = std::thread([worker] { worker->loop(); });
  }
}

FiberPool::~FiberPool() {
  for (auto& w : m_workers) {
    MutexLock lock(w->mutex);
    w->idle.wait(lock, [&w]() H2R_REQUIRES(w->mutex) { return w->alive == 0; });
    w->stopping = true;
    w->wake.notify_all();
  }
  for (auto& w : m_workers) w->thread.join();
}

void FiberPool::spawn(std::function<void()> body) {
  Worker* target = nullptr;
  int fewest = 0;
  for (auto& w : m_workers) {
    MutexLock lock(w->mutex);
    if (!target || w->alive < fewest) {
      target = w.get();
      fewest = w->alive;
    }
  }
  auto f = std::make_unique<Fiber>(target, std::move(body), m_stack_bytes);
  prepare_context(*f);
  MutexLock lock(target->mutex);
  ++target->alive;
  target->make_ready(f.release());
}

int FiberPool::threads() const { return static_cast<int>(m_workers.size()); }

int FiberPool::fibers() const {
  int n = 0;
  for (auto& w : m_workers) {
    MutexLock lock(w->mutex);
    n += w->alive;
  }
  return n;
}

} // namespace h2r

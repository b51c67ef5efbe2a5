// FiberPool (core/fiber.hpp, issue 30): fibers that wait give their thread back, a Resume from any
// thread (or at once) brings a fiber back, fiber-local slots belong to each fiber, and a fiber holding
// a Mutex never gives its thread away.
#include "core/fiber.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace h2r;
using namespace std::chrono_literals;

TEST_CASE("fiber: 1,000 fibers sleeping at once on 2 threads all wake, and the pool waits for them" *
          doctest::test_suite("threads")) {
  std::atomic<int> asleep{0}, most{0}, woke{0};
  {
    FiberPool pool(2);
    for (int i = 0; i < 1000; ++i)
      pool.spawn([&] {
        const int now = ++asleep;
        for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {}
        // Each waits until every one is asleep with it (20 s at most, and the check below fails).
        const auto until = std::chrono::steady_clock::now() + 20s;
        while (most < 1000 && std::chrono::steady_clock::now() < until) REQUIRE(fiber::sleep_for(5ms));
        --asleep;
        ++woke;
      });
    CHECK(pool.threads() == 2);
  }   // the destructor returns once every fiber ended
  CHECK(most == 1000);
  CHECK(woke == 1000);
}

TEST_CASE("fiber: a Resume from another thread, or at once from arm itself, brings the fiber back" *
          doctest::test_suite("threads")) {
  FiberPool pool(1);
  std::atomic<int> value{0};
  std::atomic<bool> ended{false};
  std::thread resumer;
  std::atomic<bool> armed{false};
  fiber::Resume later;
  pool.spawn([&] {
    // At once: arm calls it before the fiber has switched away.
    CHECK(fiber::suspend([](fiber::Resume resume) { resume(); }));
    // From another thread, after a while.
    CHECK(fiber::suspend([&](fiber::Resume resume) {
      later = std::move(resume);
      armed = true;
    }));
    CHECK(value == 42);
    ended = true;
  });
  while (!armed) std::this_thread::sleep_for(1ms);
  value = 42;
  resumer = std::thread([&] { later(); });
  resumer.join();
  while (!ended) std::this_thread::sleep_for(1ms);
}

TEST_CASE("fiber: off a fiber, or with a Mutex held, suspend and sleep_for refuse and do nothing" *
          doctest::test_suite("threads")) {
  bool armed = false;
  CHECK_FALSE(fiber::on_fiber());
  CHECK_FALSE(fiber::suspend([&](fiber::Resume) { armed = true; }));
  CHECK_FALSE(fiber::sleep_for(1ms));
  CHECK_FALSE(armed);
  Mutex mutex;
  std::atomic<bool> ended{false};
  {
    FiberPool pool(1);
    pool.spawn([&] {
      CHECK(fiber::on_fiber());
      {
        MutexLock lock(mutex);
        CHECK(mutexes_held() == 1);
        CHECK_FALSE(fiber::suspend([&](fiber::Resume) { armed = true; }));
        CHECK_FALSE(fiber::sleep_for(1ms));
      }
      CHECK(mutexes_held() == 0);
      CHECK(fiber::sleep_for(1ms));   // free again once the lock is gone
      ended = true;
    });
  }
  CHECK_FALSE(armed);
  CHECK(ended);
}

TEST_CASE("fiber: each fiber has its own local slots, however they interleave on one thread" *
          doctest::test_suite("threads")) {
  int mine[4] = {0, 1, 2, 3};
  std::atomic<int> right{0};
  void*& thread_slot = fiber::local(fiber::Slot::call_fence);
  thread_slot = &mine[0];
  {
    FiberPool pool(1);
    for (int i = 1; i <= 3; ++i)
      pool.spawn([&, i] {
        CHECK(fiber::local(fiber::Slot::call_fence) == nullptr);   // a new fiber starts with none
        fiber::local(fiber::Slot::call_fence) = &mine[i];
        for (int round = 0; round < 20; ++round) {
          REQUIRE(fiber::sleep_for(1ms));   // the others run and set theirs meanwhile
          if (fiber::local(fiber::Slot::call_fence) != &mine[i]) return;
        }
        ++right;
      });
  }
  CHECK(right == 3);
  CHECK(fiber::local(fiber::Slot::call_fence) == &mine[0]);   // this thread's own, untouched
  fiber::local(fiber::Slot::call_fence) = nullptr;
}

TEST_CASE("fiber condition: waiting fibers hold no thread, notify_one wakes one and notify_all the rest" *
          doctest::test_suite("threads")) {
  Mutex mutex;
  FiberCondition cond;
  int released = 0;   // under mutex
  std::atomic<int> waiting{0}, woke{0}, timed_out{0};
  {
    FiberPool pool(1);   // one thread: a waiter that held it would keep the notifier from ever running
    for (int i = 0; i < 3; ++i)
      pool.spawn([&, ticket = i] {
        MutexLock lock(mutex);
        ++waiting;
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        bool ok = true;
        while (ok && released <= ticket) ok = cond.wait_until(mutex, deadline);
        if (ok) ++woke; else ++timed_out;
      });
    pool.spawn([&] {
      while (waiting < 3) REQUIRE(fiber::sleep_for(1ms));
      {
        MutexLock lock(mutex);
        released = 1;
        cond.notify_one();
      }
      while (woke < 1 && timed_out == 0) REQUIRE(fiber::sleep_for(1ms));
      CHECK(woke == 1);
      MutexLock lock(mutex);
      released = 3;
      cond.notify_all();
    });
  }
  CHECK(woke == 3);
  CHECK(timed_out == 0);
}

TEST_CASE("fiber condition: a timed wait ends at its deadline, and a timer that lost to a Resume wakes nothing later" *
          doctest::test_suite("threads")) {
  Mutex mutex;
  FiberCondition cond;
  std::atomic<bool> armed{false}, resumed_by_thread{false}, ended{false};
  fiber::Resume later;
  FiberPool pool(1);
  pool.spawn([&] {
    {
      MutexLock lock(mutex);
      const auto start = std::chrono::steady_clock::now();
      CHECK_FALSE(cond.wait_until(mutex, start + 20ms));   // nobody notifies
      CHECK(std::chrono::steady_clock::now() >= start + 20ms);
    }
    // A Resume (at once) beats a timer 50 ms away; the next suspension must then wait for its own Resume,
    // which comes only after that timer would have fired.
    CHECK(fiber::suspend_until(std::chrono::steady_clock::now() + 50ms, [](fiber::Resume resume) { resume(); }));
    CHECK(fiber::suspend([&](fiber::Resume resume) {
      later = std::move(resume);
      armed = true;
    }));
    CHECK(resumed_by_thread);
    ended = true;
  });
  while (!armed) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(200ms);
  resumed_by_thread = true;
  later();
  while (!ended) std::this_thread::sleep_for(1ms);
}

TEST_CASE("fiber condition: a thread, and a fiber holding another Mutex, wait as threads and are woken" *
          doctest::test_suite("threads")) {
  Mutex mutex, other;
  FiberCondition cond;
  bool go = false;   // under mutex
  std::atomic<int> waiting{0}, woke{0};
  std::thread thread_waiter([&] {
    MutexLock lock(mutex);
    ++waiting;
    while (!go) cond.wait(mutex);
    ++woke;
  });
  {
    FiberPool pool(2);
    pool.spawn([&] {
      MutexLock hold(other);   // it may not give its thread away now
      MutexLock lock(mutex);
      ++waiting;
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      bool ok = true;
      while (ok && !go) ok = cond.wait_until(mutex, deadline);
      CHECK(ok);
      CHECK(mutexes_held() == 2);
      ++woke;
    });
    while (waiting < 2) std::this_thread::sleep_for(1ms);
    MutexLock lock(mutex);
    go = true;
    cond.notify_all();
  }
  thread_waiter.join();
  CHECK(woke == 2);
}

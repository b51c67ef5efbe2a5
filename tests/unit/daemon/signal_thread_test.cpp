// SignalThread: SIGHUP and SIGTERM sent to the process become the commands `h2rd run` acts on, and a
// shutdown that does not finish within its deadline is ended. Each ctest entry is its own process, whose
// only thread blocks the signals before the SignalThread starts, as `h2rd run` does.
#include "daemon/signal_thread.hpp"
#include "support/eventually.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <pthread.h>
#include <unistd.h>

namespace h2r {
namespace {

using namespace std::chrono_literals;

// Restores the thread's signal mask when the case ends, so that a run of the whole binary in one process
// (not ctest's way) goes on with the mask it had.
struct MaskGuard {
  sigset_t old;
  MaskGuard() { pthread_sigmask(SIG_SETMASK, nullptr, &old); }
  ~MaskGuard() { pthread_sigmask(SIG_SETMASK, &old, nullptr); }
};

struct Seen {
  std::atomic<int> reloads{0}, shutdowns{0}, deadlines{0}, last_signal{0};
  SignalCommands commands() {
    return {.reload = [this] { ++reloads; },
            .shutdown = [this](int sig) { last_signal = sig; ++shutdowns; },
            .deadline_passed = [this] { ++deadlines; }};
  }
};

} // namespace

TEST_CASE("daemon signals: SIGHUP reloads, SIGTERM shuts down, and a finished shutdown is not forced" *
          doctest::test_suite("threads")) {
  MaskGuard mask;
  const sigset_t signals = block_daemon_signals();
  Seen seen;
  SignalThread thread(signals, seen.commands(), 3600s);
  REQUIRE(::kill(::getpid(), SIGHUP) == 0);
  REQUIRE(test::eventually([&] { return seen.reloads == 1; }, 60s));
  REQUIRE(::kill(::getpid(), SIGHUP) == 0);
  REQUIRE(test::eventually([&] { return seen.reloads == 2; }, 60s));
  CHECK(seen.shutdowns == 0);
  REQUIRE(::kill(::getpid(), SIGTERM) == 0);
  REQUIRE(test::eventually([&] { return seen.shutdowns == 1; }, 60s));
  CHECK(seen.last_signal == SIGTERM);
  thread.finished();   // the loop ended in time: returns at once, without waiting out the hour
  CHECK(seen.deadlines == 0);
  CHECK(seen.reloads == 2);
}

TEST_CASE("daemon signals: a shutdown that does not finish within the deadline is forced" *
          doctest::test_suite("threads")) {
  MaskGuard mask;
  const sigset_t signals = block_daemon_signals();
  Seen seen;
  SignalThread thread(signals, seen.commands(), 50ms);
  REQUIRE(::kill(::getpid(), SIGINT) == 0);
  REQUIRE(test::eventually([&] { return seen.deadlines == 1; }, 60s));
  CHECK(seen.shutdowns == 1);
  CHECK(seen.last_signal == SIGINT);
}

TEST_CASE("daemon signals: finished() with no signal ever sent ends the thread" * doctest::test_suite("threads")) {
  MaskGuard mask;
  const sigset_t signals = block_daemon_signals();
  Seen seen;
  {
    SignalThread thread(signals, seen.commands(), 3600s);
  }   // the destructor calls finished(): it must not hang in sigwait
  CHECK(seen.reloads == 0);
  CHECK(seen.shutdowns == 0);
  CHECK(seen.deadlines == 0);
}

} // namespace h2r

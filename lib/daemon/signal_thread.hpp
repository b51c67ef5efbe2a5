// SignalThread: signals become commands (docs/style.md "Signals become commands"). No handler runs in a
// signal's context: SIGTERM, SIGINT and SIGHUP are blocked in every thread (block_daemon_signals(), called
// before any thread starts, so every thread inherits the mask) and one thread of its own takes them with
// sigwait(): SIGHUP → `reload`; SIGTERM or SIGINT → `shutdown`, then it waits up to `deadline` for
// finished() and otherwise calls `deadline_passed` (`h2rd run` ends the process there: events in hand
// stay due and run after the next start).
#pragma once

#include "core/mutex.hpp"

#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

namespace h2r {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and returns that set, for SignalThread.
sigset_t block_daemon_signals();

struct SignalCommands {
  std::function<void()> reload;            // SIGHUP
  std::function<void(int signal)> shutdown;   // SIGTERM or SIGINT (the signal, for the log)
  std::function<void()> deadline_passed;   // shutdown asked, finished() not called within the deadline
};

class SignalThread {
public:
  SignalThread(sigset_t signals, SignalCommands commands, std::chrono::milliseconds deadline);
  // Calls finished() if it was not called yet.
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

  // The work a shutdown waits for is over: the thread ends (woken from sigwait if it waits there) and
  // is joined; signals arriving from now on stay blocked and pending.
  void finished();

private:
  void run();

  sigset_t m_signals;
  SignalCommands m_commands;
  std::chrono::milliseconds m_deadline;
  Mutex m_mutex;
  CondVar m_done_cv;
  bool m_done H2R_GUARDED_BY(m_mutex) = false;
  std::thread m_thread;
};

} // namespace h2r

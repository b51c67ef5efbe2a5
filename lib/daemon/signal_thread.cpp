#include "daemon/signal_thread.hpp"

#include <pthread.h>

namespace h2r {

sigset_t block_daemon_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

SignalThread::SignalThread(sigset_t signals, SignalCommands commands, std::chrono::milliseconds deadline)
    : m_signals(signals), m_commands(std::move(commands)), m_deadline(deadline), m_thread([this] { run(); }) {}

SignalThread::~SignalThread() { finished(); }

void SignalThread::run() {
  for (;;) {
    int sig = 0;
    if (sigwait(&m_signals, &sig) != 0) continue;
    {
      MutexLock lock(m_mutex);
      if (m_done) return;
    }
    if (sig == SIGHUP) {
      if (m_commands.reload) m_commands.reload();
      continue;
    }
    if (m_commands.shutdown) m_commands.shutdown(sig);
    MutexLock lock(m_mutex);
    const bool done = m_done_cv.wait_for(lock, m_deadline, [&]() H2R_REQUIRES(m_mutex) { return m_done; });
    if (!done && m_commands.deadline_passed)
      m_commands.deadline_passed();
    return;
  }
}

void SignalThread::finished() {
  {
    MutexLock lock(m_mutex);
    if (m_done && !m_thread.joinable()) return;
    m_done = true;
  }
  m_done_cv.notify_all();
  if (!m_thread.joinable()) return;
  // Wake the thread if it still waits in sigwait, so it can end.
  pthread_kill(m_thread.native_handle(), SIGTERM);
  m_thread.join();
}

} // namespace h2r

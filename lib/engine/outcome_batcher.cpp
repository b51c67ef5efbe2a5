#include "engine/outcome_batcher.hpp"

#include <algorithm>

namespace h2r {

void OutcomeBatcher::signal(Entry& e) {
  e.signalled = true;
  e.wake.notify_one();
}

void OutcomeBatcher::wait(Entry& entry) {
  while (!entry.signalled) entry.wake.wait(m_mutex);
  entry.signalled = false;
}

void OutcomeBatcher::gather(std::chrono::steady_clock::time_point deadline) {
  while (m_queue.size() < m_max_batch && m_working > 0)
    if (!m_leader_wake.wait_until(m_mutex, deadline)) return;
}

OutcomeBatcher::OutcomeBatcher(Write write, std::size_t max_batch, std::chrono::microseconds gather)
    : m_write(std::move(write)), m_max_batch(std::max<std::size_t>(1, max_batch)), m_gather(gather) {}

void OutcomeBatcher::started() {
  MutexLock lock(m_mutex);
  ++m_working;
}

void OutcomeBatcher::abandoned() {
  MutexLock lock(m_mutex);
  if (--m_working == 0) m_leader_wake.notify_one();   // a leader may be waiting for this worker
}

bool OutcomeBatcher::leading() {
  MutexLock lock(m_mutex);
  return m_leading;
}

Result<void> OutcomeBatcher::record(const EventOutcome& outcome) {
  Entry entry{&outcome, std::nullopt, {}};
  MutexLock lock(m_mutex);
  --m_working;
  m_queue.push_back(&entry);
  // The gathering leader only needs to know when it may stop waiting: the batch is full or nobody else
  // is still working (waking it at every hand-in cost a context switch per outcome).
  if (m_leading && (m_queue.size() >= m_max_batch || m_working == 0)) m_leader_wake.notify_one();
  while (!entry.result) {
    if (m_leading) {
      wait(entry);
      continue;
    }
    // Lead: gather while other workers may still hand in an outcome, then write what is in.
    m_leading = true;
    gather(std::chrono::steady_clock::now() + m_gather);
    std::vector<Entry*> batch;
    batch.swap(m_queue);
    if (batch.size() > m_max_batch) {   // the rest waits for the next leader
      m_queue.assign(batch.begin() + static_cast<std::ptrdiff_t>(m_max_batch), batch.end());
      batch.resize(m_max_batch);
    }
    std::vector<const EventOutcome*> outcomes;
    outcomes.reserve(batch.size());
    for (const Entry* e : batch) outcomes.push_back(e->outcome);
    lock.unlock();
    std::vector<Result<void>> results = m_write(outcomes);
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i]->result = i < results.size() ? std::move(results[i])
                                            : Result<void>(fail(ErrorKind::permanent, "the store gave no result"));
    m_leading = false;
    // Each entry outlives these calls: its owner returns only after taking m_mutex, held here.
    for (Entry* e : batch)
      if (e != &entry) signal(*e);
    if (!m_queue.empty()) signal(*m_queue.front());   // the rest: its first waiter leads
  }
  return std::move(*entry.result);
}

} // namespace h2r

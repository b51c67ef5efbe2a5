#include "engine/outcome_batcher.hpp"

#include <algorithm>

namespace h2r {

OutcomeBatcher::OutcomeBatcher(Write write, std::size_t max_batch, std::chrono::microseconds gather)
    : m_write(std::move(write)), m_max_batch(std::max<std::size_t>(1, max_batch)), m_gather(gather) {}

void OutcomeBatcher::started() {
  std::lock_guard lock(m_mutex);
  ++m_working;
}

void OutcomeBatcher::abandoned() {
  {
    std::lock_guard lock(m_mutex);
    --m_working;
  }
  m_changed.notify_all();   // a leader may be waiting for this worker
}

Result<void> OutcomeBatcher::record(const EventOutcome& outcome) {
  Entry entry{&outcome, std::nullopt};
  std::unique_lock lock(m_mutex);
  --m_working;
  m_queue.push_back(&entry);
  m_changed.notify_all();
  while (!entry.result) {
    if (m_leading) {
      m_changed.wait(lock);
      continue;
    }
    // Lead: gather while other workers may still hand in an outcome, then write what is in.
    m_leading = true;
    const auto deadline = std::chrono::steady_clock::now() + m_gather;
    while (m_queue.size() < m_max_batch && m_working > 0 &&
           m_changed.wait_until(lock, deadline) != std::cv_status::timeout) {
    }
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
    m_changed.notify_all();
  }
  return std::move(*entry.result);
}

} // namespace h2r

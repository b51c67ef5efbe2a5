// Group commit of event outcomes (issue 16 (c)): the workers of a batch hand in their outcomes and
// each waits until its own is written, as with one write per outcome; one of them (the leader) writes
// every outcome handed in so far in one store call (Store::record_outcomes: one SQLite transaction)
// instead of one transaction each. The leader waits a little for more — at most `gather`, and not
// at all when no other worker is still working on an event (so one worker writes at once, as before)
// or when `max_batch` are in. An outcome is durable before its worker takes another event, so a crash
// loses no more than before: the events whose outcomes were not written are still claimed and are
// taken again (the provisioner looks users up before creating, so nothing is made twice).
#pragma once

#include "core/error.hpp"
#include "core/fiber.hpp"
#include "core/mutex.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

namespace h2r {

class OutcomeBatcher {
public:
  // Writes a batch; one result per outcome, in order (Store::record_outcomes).
  using Write = std::function<std::vector<Result<void>>(const std::vector<const EventOutcome*>&)>;

  OutcomeBatcher(Write write, std::size_t max_batch, std::chrono::microseconds gather);

  // A worker starts on an event (it will hand in an outcome): the leader may wait for it.
  void started();
  // A worker that called started() gives up its event without an outcome.
  void abandoned();
  // Hands in the outcome of the event this worker started and returns once it was written (by this
  // thread or another), with what the store said about it.
  Result<void> record(const EventOutcome& outcome);
  // True while a leader gathers (waits for workers still working) or writes: tests wait on it.
  bool leading();

private:
  struct Entry {
    const EventOutcome* outcome;
    std::optional<Result<void>> result;   // written and read under m_mutex
    // Its result is in, or it is to lead: set under m_mutex by signal(), taken by wait().
    bool signalled = false;
    FiberCondition wake;   // a waiting fiber holds no thread meanwhile (core/fiber.hpp)
  };
  // Wakes `e`'s owner (under m_mutex).
  static void signal(Entry& e);
  // Waits for signal(entry), holding m_mutex before and after.
  void wait(Entry& entry) H2R_REQUIRES(m_mutex);
  // The leader's gather: until `deadline`, the batch is full or nobody else works.
  void gather(std::chrono::steady_clock::time_point deadline) H2R_REQUIRES(m_mutex);

  Write m_write;
  const std::size_t m_max_batch;
  const std::chrono::microseconds m_gather;
  Mutex m_mutex;
  // Wakes only the leader (an outcome came in, a worker gave up): a waiting worker is woken once, when
  // its own result is in or it is to lead, not at every hand-in (a wake-up storm under many workers).
  FiberCondition m_leader_wake;
  std::vector<Entry*> m_queue H2R_GUARDED_BY(m_mutex);   // handed in, not yet taken by a leader
  int m_working H2R_GUARDED_BY(m_mutex) = 0;             // workers between started() and record()
  bool m_leading H2R_GUARDED_BY(m_mutex) = false;        // a leader is gathering or writing
};

} // namespace h2r

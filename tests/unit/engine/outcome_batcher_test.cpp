// Group commit of outcomes (engine/outcome_batcher.hpp): a worker alone writes at once; workers that
// hand in together are written in one store call, each getting its own result back.
#include "core/fiber.hpp"
#include "engine/outcome_batcher.hpp"
#include "support/eventually.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

using namespace h2r;
using namespace std::chrono_literals;

namespace {

struct Writes {
  std::mutex mutex;
  std::vector<std::vector<long long>> batches;   // the outcome ids of each write
  OutcomeBatcher::Write writer(long long refuse_id = -1) {
    return [this, refuse_id](const std::vector<const EventOutcome*>& outcomes) {
      std::vector<Result<void>> results;
      std::vector<long long> ids;
      for (const EventOutcome* o : outcomes) {
        ids.push_back(o->id);
        if (o->id == refuse_id) results.push_back(fail(ErrorKind::conflict, "lost claim"));
        else results.push_back({});
      }
      std::lock_guard lock(mutex);
      batches.push_back(ids);
      return results;
    };
  }
};

EventOutcome outcome(long long id) {
  EventOutcome o;
  o.id = id;
  return o;
}

} // namespace

TEST_CASE("outcome batcher: a worker alone writes its outcome at once, one per write" * doctest::test_suite("threads")) {
  Writes writes;
  OutcomeBatcher batcher(writes.writer(), 64, 3600s);   // a wait would hang the test: there is none
  for (long long id = 1; id <= 3; ++id) {
    batcher.started();
    CHECK(batcher.record(outcome(id)));
  }
  REQUIRE(writes.batches.size() == 3);
  CHECK(writes.batches[0] == std::vector<long long>{1});
  CHECK(writes.batches[2] == std::vector<long long>{3});
}

TEST_CASE("outcome batcher: workers that hand in together share one write and each get their own result" * doctest::test_suite("threads")) {
  Writes writes;
  OutcomeBatcher batcher(writes.writer(3), 64, 3600s);
  constexpr int k_workers = 5;
  for (int i = 0; i < k_workers; ++i) batcher.started();   // all five are working before any hands in
  std::vector<int> ok(k_workers, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_workers; ++i)
    threads.emplace_back([&, i] {
      auto r = batcher.record(outcome(i + 1));
      ok[static_cast<std::size_t>(i)] = r ? 1 : (r.error().kind == ErrorKind::conflict ? 0 : -2);
    });
  for (auto& t : threads) t.join();
  REQUIRE(writes.batches.size() == 1);   // the first waits for the others (no one else is working then)
  CHECK(writes.batches[0].size() == k_workers);
  CHECK(ok == std::vector<int>{1, 1, 0, 1, 1});
}

TEST_CASE("outcome batcher: at most max_batch in one write, and a worker that gives up is not waited for" * doctest::test_suite("threads")) {
  Writes writes;
  OutcomeBatcher batcher(writes.writer(), 2, 3600s);
  for (int i = 0; i < 4; ++i) batcher.started();
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&, i] { CHECK(batcher.record(outcome(i + 1))); });
  batcher.abandoned();   // the fourth never hands one in
  for (auto& t : threads) t.join();
  std::size_t written = 0;
  for (const auto& b : writes.batches) {
    CHECK(b.size() <= 2);
    written += b.size();
  }
  CHECK(written == 3);
}

TEST_CASE("outcome batcher: many workers handing in and giving up at once, every outcome written once, none waits forever" * doctest::test_suite("threads")) {
  // The gather wait is an hour: a leader not woken when the last worker hands in or gives up, or a waiter
  // not woken when its result is in or it is to lead next, hangs this test (ctest's timeout fails it).
  Writes writes;
  OutcomeBatcher batcher(writes.writer(), 3, 3600s);
  constexpr int k_workers = 8;
  constexpr int k_rounds = 300;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < k_workers; ++w)
    threads.emplace_back([&, w] {
      for (int r = 0; r < k_rounds; ++r) {
        batcher.started();
        if ((r + w) % 7 == 0) {
          batcher.abandoned();
          continue;
        }
        if (!batcher.record(outcome(static_cast<long long>(w) * k_rounds + r + 1))) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 0);
  std::vector<long long> written;
  for (const auto& b : writes.batches) {
    CHECK(b.size() <= 3);
    written.insert(written.end(), b.begin(), b.end());
  }
  std::sort(written.begin(), written.end());
  std::vector<long long> expected;
  for (int w = 0; w < k_workers; ++w)
    for (int r = 0; r < k_rounds; ++r)
      if ((r + w) % 7 != 0) expected.push_back(static_cast<long long>(w) * k_rounds + r + 1);
  CHECK(written == expected);
}

TEST_CASE("outcome batcher: the last worker giving up ends a leader's wait" * doctest::test_suite("threads")) {
  // The leader waits (for an hour) while another worker is still working; that worker then gives up.
  // Without the wake-up the leader would wait out the hour (ctest's timeout fails the test).
  Writes writes;
  OutcomeBatcher batcher(writes.writer(), 64, 3600s);
  batcher.started();
  batcher.started();
  std::thread leader([&] { CHECK(batcher.record(outcome(1))); });
  // The leader waits from the moment it is seen leading: it sets that and starts waiting under one lock.
  REQUIRE(test::eventually([&] { return batcher.leading(); }, 60s));
  batcher.abandoned();
  leader.join();
  REQUIRE(writes.batches.size() == 1);
  CHECK(writes.batches[0] == std::vector<long long>{1});
}

// Issue 30: the workers are fibers, many to a thread. A leader gathering, or a worker waiting for its
// write, must not hold the thread the others need to hand their outcomes in.
TEST_CASE("outcome batcher: 8 fibers on one thread hand in together and share one write" * doctest::test_suite("threads")) {
  Writes writes;
  OutcomeBatcher batcher(writes.writer(), 64, std::chrono::seconds(2));
  std::vector<EventOutcome> outcomes(8);
  std::atomic<int> ok{0};
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    outcomes[i].id = static_cast<long long>(i) + 1;
    batcher.started();
  }
  {
    FiberPool pool(1);
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      pool.spawn([&, i] {
        REQUIRE(fiber::sleep_for(1ms));   // the work before the outcome: the others start meanwhile
        if (batcher.record(outcomes[i])) ++ok;
      });
  }
  CHECK(ok == 8);
  std::lock_guard lock(writes.mutex);
  REQUIRE(writes.batches.size() == 1);   // a leader holding the thread would write 8 batches of 1, 2 s apart
  CHECK(writes.batches[0].size() == 8);
}

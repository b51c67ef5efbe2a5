// Per-connection concurrency (issue 16): sizing from rate and latency, the lane runner, and the engine
// running each connection's events on threads of its own without breaking an employee's order.
#include "engine/dispatcher.hpp"
#include "engine/engine.hpp"
#include "fakes/fake_transport.hpp"
#include "secrets/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

using namespace h2r;
using namespace h2r::test;
using namespace std::chrono_literals;

TEST_CASE("dispatcher: a connection's concurrency is ceil(rate x latency x 1.5), within floor and max" * doctest::test_suite("threads")) {
  // Little's law: 80 requests/s at 150 ms keep 12 in flight; 1.5x headroom -> 18.
  CHECK(connection_concurrency(80, 150ms, 1, 64) == 18);
  CHECK(connection_concurrency(10, 150ms, 1, 64) == 3);     // 2.25 -> 3
  CHECK(connection_concurrency(80, 50ms, 1, 64) == 6);
  CHECK(connection_concurrency(80, 300ms, 1, 64) == 36);
  CHECK(connection_concurrency(30, 100ms, 1, 64) == 5);     // 4.5 -> 5
  // Bounds: never below the floor (nor 1), never above the max; the floor never above the max.
  CHECK(connection_concurrency(1, 10ms, 4, 64) == 4);
  CHECK(connection_concurrency(1, 0us, 0, 64) == 1);
  CHECK(connection_concurrency(1000, 300ms, 1, 64) == 64);
  CHECK(connection_concurrency(1000, 300ms, 100, 8) == 8);
  CHECK(connection_concurrency(10, 150ms, 1, 0) == 1);
  // Not answered yet: the floor, whatever the rate (a first contact is not a flood).
  CHECK(connection_concurrency(80, std::nullopt, 4, 64) == 4);
  CHECK(connection_concurrency(0, std::nullopt, 1, 64) == 1);
  CHECK(connection_concurrency(80, std::nullopt, 100, 64) == 64);
  // Unlimited or nonsense rates and latencies: the max, never an overflow.
  CHECK(connection_concurrency(0, 150ms, 1, 64) == 64);
  CHECK(connection_concurrency(-5, 150ms, 1, 64) == 64);
  CHECK(connection_concurrency(std::numeric_limits<double>::infinity(), 150ms, 1, 64) == 64);
  CHECK(connection_concurrency(std::numeric_limits<double>::quiet_NaN(), 150ms, 1, 64) == 64);
  CHECK(connection_concurrency(10000, std::chrono::microseconds::max(), 1, 64) == 64);
  CHECK(connection_concurrency(10, -5s, 2, 64) == 2);
}

TEST_CASE("dispatcher: the latency average starts at the first call and follows new ones by alpha" * doctest::test_suite("threads")) {
  LatencyEwma ewma(0.25);
  CHECK_FALSE(ewma.value().has_value());
  ewma.observe(200ms);
  CHECK(ewma.value() == 200ms);
  ewma.observe(100ms);   // 0.25*100 + 0.75*200 = 175
  CHECK(ewma.value() == 175ms);
  for (int i = 0; i < 100; ++i) ewma.observe(40ms);
  CHECK(ewma.value().value() >= 40ms);
  CHECK(ewma.value().value() < 41ms);
  ewma.observe(-3ms);    // a clock step backwards counts as 0, never negative
  CHECK(ewma.value().value() >= 0us);
}

namespace {

// Items that wait until told to go, counting how many of each lane run at once.
struct Gates {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, int> running, peak, done;
  std::map<std::string, bool> open;

  void work(const std::string& lane) {
    std::unique_lock lock(mutex);
    peak[lane] = std::max(peak[lane], ++running[lane]);
    changed.notify_all();
    // Bounded: a test that fails must not hang the suite.
    changed.wait_for(lock, 30s, [&] { return open[lane]; });
    --running[lane];
    ++done[lane];
    changed.notify_all();
  }
  bool wait(const std::function<bool()>& condition) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 30s, condition);
  }
  void release(const std::string& lane) {
    std::lock_guard lock(mutex);
    open[lane] = true;
    changed.notify_all();
  }
};

// These items block their thread (a gate, not a fiber wait): the pool needs a thread for each one held.
constexpr int k_threads_for_blocking_items = 16;

} // namespace

TEST_CASE("dispatcher: a lane runs as many items at once as its target, never more than it has" * doctest::test_suite("threads")) {
  FiberPool pool(k_threads_for_blocking_items);
  Gates gates;
  std::vector<LaneRunner::Lane> lanes{{"wide", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, {"narrow", {10, 11}}};
  auto lane_of = [](std::size_t i) { return std::string(i < 10 ? "wide" : "narrow"); };
  LaneRunner runner(pool, lanes, [](const std::string& key) { return key == "wide" ? 6 : 5; },
                    [&](std::size_t i) { gates.work(lane_of(i)); }, [] { return false; });
  std::thread t([&] { runner.run(); });
  // The wide lane reaches 6 at once (its target), the narrow one its 2 items.
  CHECK(gates.wait([&] { return gates.running["wide"] == 6 && gates.running["narrow"] == 2; }));
  gates.release("wide");
  gates.release("narrow");
  t.join();
  CHECK(gates.done["wide"] == 10);
  CHECK(gates.done["narrow"] == 2);
  CHECK(gates.peak["wide"] == 6);
  CHECK(gates.peak["narrow"] == 2);
  CHECK(runner.untaken().empty());
  for (const auto& [key, peak] : runner.peak_fibers()) CHECK(peak == (key == "wide" ? 6 : 2));
}

TEST_CASE("dispatcher: a lane grows when its target rises and shrinks when it falls" * doctest::test_suite("threads")) {
  FiberPool pool(k_threads_for_blocking_items);
  Gates gates;
  std::atomic<int> target{1};
  std::vector<std::size_t> items(40);
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = i;
  std::atomic<int> started{0};
  LaneRunner runner(pool, {{"c", items}}, [&](const std::string&) { return target.load(); },
                    [&](std::size_t) {
                      if (++started <= 1) gates.work("first");   // the first item waits for the raise
                      else gates.work("rest");
                    }, [] { return false; });
  std::thread t([&] { runner.run(); });
  CHECK(gates.wait([&] { return gates.running["first"] == 1; }));
  target = 8;               // latency became known: the lane widens on its next item
  gates.release("first");
  CHECK(gates.wait([&] { return gates.running["rest"] == 8; }));
  target = 2;
  gates.release("rest");
  t.join();
  CHECK(gates.peak["rest"] == 8);
  CHECK(gates.done["first"] + gates.done["rest"] == 40);
}

TEST_CASE("dispatcher: a lane whose items are stuck holds none of another lane's threads" * doctest::test_suite("threads")) {
  FiberPool pool(k_threads_for_blocking_items);
  Gates gates;
  std::vector<std::size_t> slow(20), fast(20);
  for (std::size_t i = 0; i < 20; ++i) slow[i] = i, fast[i] = 20 + i;
  gates.release("fast");
  // Slow items first, as a batch sorted by arrival would give them; each lane's target is 4.
  LaneRunner runner(pool, {{"slow", slow}, {"fast", fast}}, [](const std::string&) { return 4; },
                    [&](std::size_t i) { gates.work(i < 20 ? "slow" : "fast"); }, [] { return false; });
  std::thread t([&] { runner.run(); });
  CHECK(gates.wait([&] { return gates.done["fast"] == 20; }));   // all of them while "slow" is stuck
  CHECK(gates.done["slow"] == 0);
  gates.release("slow");
  t.join();
  CHECK(gates.done["slow"] == 20);
}

TEST_CASE("dispatcher: a stop leaves the items not started, and lists them" * doctest::test_suite("threads")) {
  FiberPool pool(k_threads_for_blocking_items);
  std::atomic<int> ran{0};
  std::atomic<bool> stop{false};
  std::vector<std::size_t> items{0, 1, 2, 3, 4, 5, 6, 7};
  LaneRunner runner(pool, {{"c", items}}, [](const std::string&) { return 1; },
                    [&](std::size_t) { if (++ran == 3) stop = true; }, [&] { return stop.load(); });
  runner.run();
  CHECK(ran == 3);
  CHECK(runner.untaken() == std::vector<std::size_t>{3, 4, 5, 6, 7});
}

// Issue 30: lanes whose items wait as fibers do (for a pacing slot, for Zoom's answer) hold no thread.
TEST_CASE("dispatcher: 100 lanes whose items wait all wait at once on 2 threads" * doctest::test_suite("threads")) {
  FiberPool pool(2);
  std::vector<LaneRunner::Lane> lanes;
  for (std::size_t i = 0; i < 100; ++i) lanes.push_back({"c" + std::to_string(i), {2 * i, 2 * i + 1}});
  std::atomic<int> waiting{0}, peak{0}, done{0};
  LaneRunner runner(pool, lanes, [](const std::string&) { return 1; },
                    [&](std::size_t) {
                      const int now = ++waiting;
                      for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {}
                      // Each waits until all 100 lanes' first items wait together (or 20 s, and the check fails).
                      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
                      while (peak < 100 && std::chrono::steady_clock::now() < until)
                        REQUIRE(fiber::sleep_for(std::chrono::milliseconds(10)));
                      --waiting;
                      ++done;
                    }, [] { return false; });
  runner.run();
  CHECK(done == 200);
  CHECK(peak == 100);   // one item of every lane waited at once, although only 2 threads ran them
  CHECK(pool.threads() == 2);
}

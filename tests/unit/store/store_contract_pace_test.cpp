// The Store contract, part 5: pacing shared by the daemons on one database (Store::take_pace_grant).
// Two stores on one database stand for two daemons; every time is an explicit µs value, never the clock.
#include "store_test_util.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

using namespace h2r;
using namespace h2r::store_test;

namespace {

constexpr long long k_t0 = 1'700'000'000'000'000;   // µs since the epoch (2023)

std::vector<long long> slots_of(const PaceGrant& grant) {
  std::vector<long long> slots;
  for (int i = 0; i < grant.count; ++i) slots.push_back(grant.first_us + grant.interval_us * i);
  return slots;
}

// The most slots in any window [a, a + window_us) — the rate bound is window_us / interval + 1.
long long busiest_window(std::vector<long long> slots, long long window_us) {
  std::sort(slots.begin(), slots.end());
  long long most = 0;
  for (std::size_t i = 0, j = 0; i < slots.size(); ++i) {
    while (slots[i] - slots[j] >= window_us) ++j;
    most = std::max(most, static_cast<long long>(i - j + 1));
  }
  return most;
}

} // namespace

TEST_CASE_TEMPLATE("store contract: pace grants of two stores on one database never exceed the rate over a window", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto first = F::open(dir);
  auto second = F::open(dir);
  constexpr long long k_interval = 25'000;   // 40 calls/s
  std::mutex mutex;
  std::vector<long long> slots;
  std::vector<std::string> problems;
  // Both "daemons" ask at the same fake times, as fast as they can, in grants of 1 to 4 slots.
  auto worker = [&](Store& store, int seed) {
    for (int i = 0; i < 60; ++i) {
      const long long now = k_t0 + i * 40'000LL;
      auto grant = store.take_pace_grant("acme", now, k_interval, 1 + (i + seed) % 4);
      std::lock_guard lock(mutex);
      if (!grant) {
        problems.push_back(grant.error().message);
        return;
      }
      if (grant->first_us < now) problems.push_back("a grant starts before its from_us");
      if (grant->interval_us != k_interval) problems.push_back("a grant has another interval");
      for (long long s : slots_of(*grant)) slots.push_back(s);
    }
  };
  std::thread a(worker, std::ref(*first), 0);
  std::thread b(worker, std::ref(*second), 1);
  a.join();
  b.join();
  REQUIRE(problems.empty());
  std::sort(slots.begin(), slots.end());
  REQUIRE(slots.size() > 200);
  for (std::size_t i = 1; i < slots.size(); ++i) REQUIRE(slots[i] - slots[i - 1] >= k_interval);
  // Any one second holds at most 40 + 1 slots, whoever took them.
  CHECK(busiest_window(slots, 1'000'000) <= 1'000'000 / k_interval + 1);
  // And another connection has a schedule of its own.
  auto other = first->take_pace_grant("other", k_t0, k_interval, 2);
  REQUIRE(other);
  CHECK(other->first_us == k_t0);
}

TEST_CASE_TEMPLATE("store contract: a pace grant its holder never used delays the others by its own length only", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto holder = F::open(dir);
  auto other = F::open(dir);
  auto taken = holder->take_pace_grant("acme", k_t0, 100'000, 4);   // 4 slots: t0 .. t0 + 0.3 s
  REQUIRE(taken);
  CHECK(taken->first_us == k_t0);
  CHECK(taken->count == 4);
  // The holder dies. While its grant lasts, the others get the slots after it...
  auto during = other->take_pace_grant("acme", k_t0 + 150'000, 100'000, 1);
  REQUIRE(during);
  CHECK(during->first_us == k_t0 + 400'000);
  // ... and once it ran out, slots from their own now: nothing of it is held any longer.
  auto after = other->take_pace_grant("acme", k_t0 + 2'000'000, 100'000, 2);
  REQUIRE(after);
  CHECK(after->first_us == k_t0 + 2'000'000);
  CHECK(after->count == 2);
}

TEST_CASE_TEMPLATE("store contract: a pace grant of 0 slots holds the schedule back for every store", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto first = F::open(dir);
  auto second = F::open(dir);
  // A 429 with Retry-After 5 s seen by the first daemon...
  auto held = first->take_pace_grant("acme", k_t0 + 5'000'000, 50'000, 0);
  REQUIRE(held);
  CHECK(held->count == 0);
  // ... makes the second one wait too; an earlier hold never moves it back.
  REQUIRE(second->take_pace_grant("acme", k_t0 + 1'000'000, 50'000, 0));
  auto next = second->take_pace_grant("acme", k_t0, 50'000, 1);
  REQUIRE(next);
  CHECK(next->first_us == k_t0 + 5'000'000);
}

TEST_CASE_TEMPLATE("store contract: take_pace_grant refuses arguments out of range, naming them", F,
                   H2R_STORE_IMPLEMENTATIONS) {
  H2R_STORE_SKIP_UNLESS_AVAILABLE(F);
  TempDir dir;
  auto store = F::open(dir);
  struct Bad {
    std::string connection;
    long long from_us, interval_us;
    int count;
    std::string says;
  };
  for (const Bad& bad : {Bad{"", k_t0, 1000, 1, "connection name"}, Bad{std::string(201, 'x'), k_t0, 1000, 1, "connection name"},
                         Bad{"acme", 0, 1000, 1, "from_us"}, Bad{"acme", k_max_pace_time_us + 1, 1000, 1, "from_us"},
                         Bad{"acme", k_t0, 0, 1, "interval_us"}, Bad{"acme", k_t0, k_max_pace_interval_us + 1, 1, "interval_us"},
                         Bad{"acme", k_t0, 1000, -1, "count"}, Bad{"acme", k_t0, 1000, k_max_pace_grant + 1, "count"}}) {
    CAPTURE(bad.says);
    auto r = store->take_pace_grant(bad.connection, bad.from_us, bad.interval_us, bad.count);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::invalid);
    CHECK(r.error().message.find(bad.says) != std::string::npos);
  }
  // The largest grant at the latest time still fits.
  CHECK(store->take_pace_grant("acme", k_max_pace_time_us, k_max_pace_interval_us, k_max_pace_grant));
}

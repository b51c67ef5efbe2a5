// RateLimiter: even spacing and pauses, on a fake timeline.
#include "zoom/rate_limiter.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <vector>

using namespace h2r;
using namespace std::chrono_literals;

TEST_CASE("rate limiter: slots are spaced evenly at the configured rate" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  RateLimiter limiter(5);   // one every 200 ms
  CHECK(limiter.reserve(t0) == t0);
  CHECK(limiter.reserve(t0) == t0 + 200ms);
  CHECK(limiter.reserve(t0 + 100ms) == t0 + 400ms);
  CHECK(limiter.waits() == 2);
  // After a quiet spell, no catching up in a burst: the next slot is now, then spaced again.
  CHECK(limiter.reserve(t0 + 10s) == t0 + 10s);
  CHECK(limiter.reserve(t0 + 10s) == t0 + 10s + 200ms);
  limiter.set_rate(0);   // unlimited
  CHECK(limiter.reserve(t0 + 20s) == t0 + 20s);
  CHECK(limiter.reserve(t0 + 20s) == t0 + 20s);
  CHECK(limiter.rate() == 0.0);
}

TEST_CASE("rate limiter: a pause holds every slot until its end, and says why" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  RateLimiter limiter(10);
  limiter.pause_until(t0 + 30s, "rate limited");
  limiter.pause_until(t0 + 5s, "shorter");   // a shorter pause does not shorten it
  auto pause = limiter.pause(t0);
  REQUIRE(pause);
  CHECK(pause->first == t0 + 30s);
  CHECK(pause->second == "rate limited");
  CHECK(limiter.reserve(t0) == t0 + 30s);
  CHECK(limiter.reserve(t0) == t0 + 30s + 100ms);
  CHECK_FALSE(limiter.pause(t0 + 31s));
}

TEST_CASE("rate limiter: a rate below the floor (1e-10 from an old database) spaces by 10 s, no overflow" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  RateLimiter limiter(1e-10);
  CHECK(limiter.reserve(t0) == t0);
  CHECK(limiter.reserve(t0) == t0 + 10s);   // 1 / k_min_rate_limit
  limiter.set_rate(1e-300);
  CHECK(limiter.reserve(t0) == t0 + 20s);
}

namespace {

// The database's schedule (Store::take_pace_grant) in memory: one next free slot, moved on per grant.
struct FakeSchedule {
  SystemTime tat{};
  int calls = 0;
  bool down = false;
  std::optional<SlotGrant> take(SystemTime from, std::chrono::nanoseconds interval, int count) {
    ++calls;
    if (down) return std::nullopt;
    const SystemTime first = std::max(tat, from);
    tat = first + interval * count;
    return SlotGrant{first, count, interval};
  }
  SlotSource source() {
    return [this](SystemTime from, std::chrono::nanoseconds interval, int count) { return take(from, interval, count); };
  }
};

} // namespace

TEST_CASE("rate limiter: two limiters on one shared schedule never go faster than the rate together" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  FakeSchedule schedule;
  RateLimiter a(40), b(40);   // 25 ms apart, grants of 4 slots (100 ms)
  for (auto* l : {&a, &b}) {
    l->set_share(2);
    l->set_source(schedule.source());
  }
  CHECK(a.rate() == doctest::Approx(40));   // either may use the whole rate
  std::vector<SystemTime> slots;
  for (int i = 0; i < 50; ++i) {
    const SystemTime now = t0 + std::chrono::milliseconds(10 * i);
    slots.push_back(a.reserve(now));
    slots.push_back(b.reserve(now));
  }
  std::sort(slots.begin(), slots.end());
  for (std::size_t i = 1; i < slots.size(); ++i) REQUIRE(slots[i] - slots[i - 1] >= 25ms);
  CHECK(a.grants() == 13);   // 4 slots a grant: one database round trip per 4 calls
  CHECK(schedule.calls == 26);
}

TEST_CASE("rate limiter: one limiter alone on a shared schedule paces at the whole rate, not its share" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  FakeSchedule schedule;
  RateLimiter limiter(40);
  limiter.set_share(3);
  limiter.set_source(schedule.source());
  for (int i = 0; i < 8; ++i) CHECK(limiter.reserve(t0) == t0 + 25ms * i);
  // Slots of a grant left unused are dropped once more than one interval old: no burst to catch up.
  CHECK(limiter.reserve(t0 + 1s) == t0 + 1s);
  CHECK(limiter.reserve(t0 + 1s) == t0 + 1s + 25ms);
  CHECK(limiter.reserve(t0 + 2s) == t0 + 2s);   // the rest of that grant is gone
  CHECK(limiter.reserve(t0 + 2s) == t0 + 2s + 25ms);
}

TEST_CASE("rate limiter: when the shared schedule fails it paces at its share for a second, then asks again" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  FakeSchedule schedule;
  schedule.down = true;
  RateLimiter limiter(40);
  limiter.set_share(2);   // 20/s alone: 50 ms apart
  limiter.set_source(schedule.source());
  CHECK(limiter.reserve(t0) == t0);
  CHECK(limiter.reserve(t0) == t0 + 50ms);
  CHECK(limiter.reserve(t0) == t0 + 100ms);
  CHECK(limiter.rate() == doctest::Approx(20));
  CHECK(schedule.calls == 1);   // not asked again during the fallback
  CHECK(limiter.fallbacks() == 1);
  schedule.down = false;
  CHECK(limiter.reserve(t0 + k_pace_fallback) == t0 + k_pace_fallback);
  CHECK(schedule.calls == 2);
  CHECK(limiter.rate() == doctest::Approx(40));
  CHECK(limiter.reserve(t0 + k_pace_fallback) == t0 + k_pace_fallback + 25ms);
}

TEST_CASE("rate limiter: a pause on a shared schedule holds the others back too, and drops slots inside it" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  FakeSchedule schedule;
  RateLimiter a(40), b(40);
  a.set_source(schedule.source());
  b.set_source(schedule.source());
  CHECK(a.reserve(t0) == t0);   // a grant of t0 .. t0 + 75 ms
  a.pause_until(t0 + 3s, "rate limited");
  CHECK(a.reserve(t0) == t0 + 3s);          // the rest of its grant fell inside the pause
  CHECK(b.reserve(t0 + 1s) == t0 + 3s + 100ms);   // b never saw the 429, yet waits for it
  // A pause longer than k_max_shared_pause is shared only that long.
  RateLimiter c(40);
  c.set_source(schedule.source());
  CHECK(c.reserve(t0 + 10s) == t0 + 10s);
  c.pause_until(t0 + 10h, "daily limit");
  CHECK(schedule.tat == t0 + 10s + k_max_shared_pause);
}

TEST_CASE("rate limiter: without a source the share divides the rate, as one daemon among several" * doctest::test_suite("threads")) {
  const SystemTime t0 = SystemTime{} + 1000h;
  RateLimiter limiter(40);
  limiter.set_share(2);
  CHECK(limiter.rate() == doctest::Approx(20));
  CHECK(limiter.reserve(t0) == t0);
  CHECK(limiter.reserve(t0) == t0 + 50ms);
  CHECK(limiter.grants() == 0);
}

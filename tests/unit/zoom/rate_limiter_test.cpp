// RateLimiter: even spacing and pauses, on a fake timeline.
#include "zoom/rate_limiter.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace std::chrono_literals;

TEST_CASE("rate limiter: slots are spaced evenly at the configured rate") {
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

TEST_CASE("rate limiter: a pause holds every slot until its end, and says why") {
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

TEST_CASE("rate limiter: a rate below the floor (1e-10 from an old database) spaces by 10 s, no overflow") {
  const SystemTime t0 = SystemTime{} + 1000h;
  RateLimiter limiter(1e-10);
  CHECK(limiter.reserve(t0) == t0);
  CHECK(limiter.reserve(t0) == t0 + 10s);   // 1 / k_min_rate_limit
  limiter.set_rate(1e-300);
  CHECK(limiter.reserve(t0) == t0 + 20s);
}

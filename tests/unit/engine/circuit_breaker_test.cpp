// CircuitBreaker on a fake clock: it opens on a share of failures over a sliding window (not on a
// streak), lets exactly one probe through after the cool-down, and the cool-down doubles after each
// failed probe up to its cap and goes back to the base after a success.
#include "engine/circuit_breaker.hpp"

#include <doctest/doctest.h>

using namespace h2r;
using namespace std::chrono_literals;

namespace {

BreakerConfig small_config() {
  BreakerConfig c;
  c.window = 10;
  c.failure_ratio = 0.5;
  c.min_calls = 6;
  c.cooldown = 5s;
  c.max_cooldown = 30s;
  return c;
}

// Feeds `pattern` ('x' failed, '.' succeeded) as admitted calls; returns how many were admitted.
int feed(CircuitBreaker& b, FakeClock& clock, const std::string& pattern) {
  int admitted = 0;
  for (char c : pattern) {
    if (!b.admit(clock.now()).allowed) continue;
    ++admitted;
    if (c == 'x')
      b.on_failure(clock.now());
    else
      b.on_success(clock.now());
  }
  return admitted;
}

} // namespace

TEST_CASE("circuit breaker: opens on a share of failures over the window, not before min_calls" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  // Five failures in a row are fewer calls than min_calls: still closed.
  CHECK(feed(b, clock, "xxxxx") == 5);
  CHECK(b.state(clock.now()) == CircuitBreaker::State::closed);
  // The sixth call is a success: 5 of 6 failed, but a success never opens it.
  feed(b, clock, ".");
  CHECK(b.state(clock.now()) == CircuitBreaker::State::closed);
  // The next failure makes 6 of 7: open, for the base cool-down.
  feed(b, clock, "x");
  CHECK(b.state(clock.now()) == CircuitBreaker::State::open);
  CHECK(b.open_until() == clock.now() + 5s);
  CHECK(b.tripped_failures() == 6);
  CHECK(b.tripped_calls() == 7);
  auto refused = b.admit(clock.now());
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_at == clock.now() + 5s);
}

TEST_CASE("circuit breaker: a failure share below the ratio keeps it closed over a long run, the window slides" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  // 3 of every 10 fail, spread out: no window of 6 or more calls reaches half.
  for (int i = 0; i < 50; ++i) CHECK(feed(b, clock, "x..x...x..") == 10);
  CHECK(b.state(clock.now()) == CircuitBreaker::State::closed);
  CHECK(b.calls() == 10);
  CHECK(b.failures() == 3);
  // A failure pushing out the oldest one keeps 3 of 10 ...
  feed(b, clock, "x");
  CHECK(b.failures() == 3);
  // ... then failures pushing out successes: 4 of 10 stays closed, 5 of 10 opens.
  feed(b, clock, "x");
  CHECK(b.state(clock.now()) == CircuitBreaker::State::closed);
  CHECK(b.failures() == 4);
  feed(b, clock, "x");
  CHECK(b.state(clock.now()) == CircuitBreaker::State::open);
  CHECK(b.tripped_failures() == 5);
  CHECK(b.tripped_calls() == 10);
}

TEST_CASE("circuit breaker: half-open lets exactly one probe through" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  feed(b, clock, "xxxxxx");
  REQUIRE(b.state(clock.now()) == CircuitBreaker::State::open);
  clock.advance(5s);
  CHECK(b.state(clock.now()) == CircuitBreaker::State::half_open);
  auto probe = b.admit(clock.now());
  CHECK(probe.allowed);
  CHECK(probe.probe);
  for (int i = 0; i < 20; ++i) {
    auto other = b.admit(clock.now());
    CHECK_FALSE(other.allowed);
    CHECK(other.retry_at == clock.now() + CircuitBreaker::k_probe_wait);
  }
  // A probe that never reports back is replaced, but only after k_probe_stale.
  clock.advance(CircuitBreaker::k_probe_stale - 1s);
  CHECK_FALSE(b.admit(clock.now()).allowed);
  clock.advance(1s);
  CHECK(b.admit(clock.now()).probe);
  // The probe succeeds: closed, every caller allowed, the window starts empty.
  CHECK(b.on_success(clock.now()));
  CHECK(b.state(clock.now()) == CircuitBreaker::State::closed);
  CHECK(b.calls() == 0);
  CHECK(b.admit(clock.now()).allowed);
  CHECK_FALSE(b.admit(clock.now()).probe);
}

TEST_CASE("circuit breaker: the cool-down doubles after each failed probe up to its cap, and resets after a success" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  feed(b, clock, "xxxxxx");
  CHECK(b.last_cooldown() == 5s);
  const std::chrono::milliseconds expected[] = {10s, 20s, 30s, 30s};
  for (auto want : expected) {
    clock.set(b.open_until());
    REQUIRE(b.admit(clock.now()).probe);
    CHECK(b.on_failure(clock.now()));
    CHECK(b.state(clock.now()) == CircuitBreaker::State::open);
    CHECK(b.last_cooldown() == want);
    CHECK(b.open_until() == clock.now() + want);
  }
  // A failure reported by a call admitted before the breaker opened changes nothing.
  CHECK_FALSE(b.on_failure(clock.now()));
  CHECK(b.open_until() == clock.now() + 30s);

  clock.set(b.open_until());
  REQUIRE(b.admit(clock.now()).probe);
  CHECK(b.on_success(clock.now()));
  // Trouble again later: the cool-down starts from the base again.
  feed(b, clock, "xxxxxx");
  CHECK(b.state(clock.now()) == CircuitBreaker::State::open);
  CHECK(b.last_cooldown() == 5s);
}

TEST_CASE("circuit breaker: reset closes it and forgets the window and the grown cool-down" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  feed(b, clock, "xxxxxx");
  clock.set(b.open_until());
  REQUIRE(b.admit(clock.now()).probe);
  b.on_failure(clock.now());
  CHECK(b.last_cooldown() == 10s);
  b.reset();
  CHECK(b.state(clock.now()) == CircuitBreaker::State::closed);
  CHECK(b.calls() == 0);
  feed(b, clock, "xxxxxx");
  CHECK(b.last_cooldown() == 5s);
}

TEST_CASE("circuit breaker: while open only the probe's answer counts, not calls admitted before it opened" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  feed(b, clock, "xxxxxx");
  REQUIRE(b.state(clock.now()) == CircuitBreaker::State::open);
  // Stragglers in flight when it opened report back: nothing changes.
  CHECK_FALSE(b.on_success(clock.now()));
  CHECK_FALSE(b.on_failure(clock.now()));
  CHECK(b.state(clock.now()) == CircuitBreaker::State::open);
  // A probe paced away by the rate limiter made no call: the next caller probes instead.
  clock.set(b.open_until());
  REQUIRE(b.admit(clock.now()).probe);
  CHECK_FALSE(b.admit(clock.now()).allowed);
  b.cancel_probe();
  CHECK(b.admit(clock.now()).probe);
}

TEST_CASE("circuit breaker: new settings keep the newest outcomes that fit the new window" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  feed(b, clock, "xx...");   // 5 calls, 2 failed: below min_calls 6
  CHECK(b.calls() == 5);
  CHECK(b.failures() == 2);
  BreakerConfig smaller = small_config();
  smaller.window = 3;
  smaller.min_calls = 3;
  b.configure(smaller);
  CHECK(b.calls() == 3);      // the newest three: "..."
  CHECK(b.failures() == 0);
  CHECK(b.config().window == 3);
  feed(b, clock, "xx");       // window "." "x" "x": 2 of 3 failed >= 0.5
  CHECK(b.state(clock.now()) == CircuitBreaker::State::open);
}

TEST_CASE("circuit breaker: a lower min_calls or ratio applies to the outcomes already seen" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  feed(b, clock, "x.x");      // 3 calls: below min_calls 6
  CHECK(b.state(clock.now()) == CircuitBreaker::State::closed);
  BreakerConfig eager = small_config();
  eager.min_calls = 2;
  b.configure(eager);
  CHECK(b.calls() == 3);
  feed(b, clock, "x");        // 3 of 4 failed, min_calls 2: open
  CHECK(b.state(clock.now()) == CircuitBreaker::State::open);
}

TEST_CASE("circuit breaker: an open breaker keeps its cool-down's end and the next one follows the new settings" * doctest::test_suite("threads")) {
  FakeClock clock;
  CircuitBreaker b(small_config());
  feed(b, clock, "xxxxxx");
  REQUIRE(b.state(clock.now()) == CircuitBreaker::State::open);
  const auto until = b.open_until();
  BreakerConfig slow = small_config();
  slow.cooldown = 1s;
  slow.max_cooldown = 2s;
  b.configure(slow);
  CHECK(b.open_until() == until);
  clock.advance(5s);
  REQUIRE(b.admit(clock.now()).probe);
  b.on_failure(clock.now());  // the probe failed: open again for the next cool-down, now capped at 2s
  CHECK(b.last_cooldown() == 2s);
}
